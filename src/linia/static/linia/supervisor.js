// Supervisor view: agents by state with live time-in-state, queues with waiting / longest wait / SL,
// contacts in the tenant with "move to queue". Presence and queue_stats events patch the tables;
// anything else asks for a fresh snapshot (debounced), and a snapshot every 30 s guards against drift.
(function () {
  "use strict";
  var R = window.LiniaRT, cfg = R.cfg, t = R.t, el = R.el;
  var S = { agents: {}, queues: [], tasks: [], received: R.now() };
  var $ = function (id) { return document.getElementById(id); };
  var refreshTimer = null;

  function agentId(a) { return a.user_id != null ? a.user_id : a.id; }

  function applySnapshot(m) {
    S.agents = {};
    (m.agents || []).forEach(function (a) { S.agents[agentId(a)] = a; });
    S.queues = m.queues || [];
    S.tasks = m.tasks || [];
    S.received = R.now();
  }

  function onMessage(m) {
    if (m.tenant_id != null && m.tenant_id !== cfg.tenant_id) return;
    if (m.kind === "snapshot") applySnapshot(m);
    else if (m.kind === "presence" && S.agents[m.user_id]) {
      var a = S.agents[m.user_id];
      a.state = m.state; a.reason = m.reason || ""; a.since = m.since; a.not_responding = !!m.not_responding;
      refreshSoon();
    }
    else if (m.kind === "queue_stats") {  // waiting figures only: merged into the snapshot's rows
      var byId = {};
      S.queues.forEach(function (q) { byId[q.id] = q; });
      (m.queues || []).forEach(function (q) {
        if (byId[q.id]) { byId[q.id].waiting = q.waiting; byId[q.id].longest_wait_seconds = q.longest_wait_seconds; delete byId[q.id].oldest_queued_at; }
        else S.queues.push(q);
      });
      S.received = R.now(); refreshSoon();
    }
    else if (m.kind === "ack") { notice(m.op === "move_task" ? t("moved") : t("state_changed")); return; }
    else if (m.kind !== "error") { refreshSoon(); return; }
    render();
  }

  function refreshSoon() {
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(function () { conn.send({ op: "snapshot" }, true); }, 700);
  }

  var noticeTimer = null;
  function notice(text) {
    var box = $("rt-notice");
    box.textContent = text; box.hidden = false;
    clearTimeout(noticeTimer);
    noticeTimer = setTimeout(function () { box.hidden = true; }, 3000);
  }

  // --- queues --------------------------------------------------------------------------------------------
  function longestMs(q) {
    var oldest = R.parse(q.oldest_queued_at);
    if (oldest) return R.now() - oldest;
    var s = q.longest_wait_seconds != null ? q.longest_wait_seconds : q.longest_wait;
    return s ? s * 1000 + (R.now() - S.received) : 0;
  }

  function sl(q) {
    var v = q.service_level != null ? q.service_level : q.sl;
    if (v == null) return "—";
    return (Math.round(v * 10) / 10) + "%";  // percent, variant B
  }

  function renderQueues() {
    var body = $("queues-table").tBodies[0];
    body.textContent = "";
    if (!S.queues.length) body.appendChild(el("tr", {}, [el("td", { colspan: 6, class: "muted", text: t("no_queues") })]));
    S.queues.forEach(function (q) {
      var waiting = q.waiting || 0;
      body.appendChild(el("tr", { "data-queue-row": q.id || q.code, class: waiting ? "rt-has-waiting" : "" }, [
        el("td", {}, [el("strong", { text: q.name || q.code }), " ", el("span", { class: "muted small", text: q.code || "" })]),
        el("td", { class: "num", "data-waiting": "", text: String(waiting) }),
        el("td", { class: "num mono", "data-longest": "", text: waiting ? R.duration(longestMs(q)) : "—" }),
        el("td", { class: "num", text: sl(q) }),
        el("td", { class: "num", text: String(q.answered || q.answered_today || 0) }),
        el("td", { class: "num", text: String(q.abandoned || q.abandoned_today || 0) }),
      ]));
    });
  }

  // --- agents --------------------------------------------------------------------------------------------
  function renderAgents() {
    var body = $("agents-table").tBodies[0];
    var ids = Object.keys(S.agents).sort(function (a, b) {
      return String(S.agents[a].name || S.agents[a].username).localeCompare(String(S.agents[b].name || S.agents[b].username));
    });
    Array.prototype.slice.call(body.rows).forEach(function (row) {
      if (!S.agents[row.getAttribute("data-agent-row")]) row.remove();
    });
    var empty = body.querySelector("[data-empty]");
    if (empty) empty.remove();
    if (!ids.length) body.appendChild(el("tr", { "data-empty": "" }, [el("td", { colspan: 6, class: "muted", text: t("no_agents") })]));
    ids.forEach(function (id) {
      var a = S.agents[id];
      var row = body.querySelector('[data-agent-row="' + id + '"]');
      if (!row) {
        var form = document.getElementById("tpl-state-form").content.firstElementChild.cloneNode(true);
        form.setAttribute("data-user", id);
        row = el("tr", { "data-agent-row": id }, [
          el("td", { "data-name": "" }), el("td", { "data-state": "" }), el("td", { "data-reason": "" }),
          el("td", { class: "num mono", "data-timer": "" }), el("td", { class: "small", "data-load": "" }), el("td", {}, [form]),
        ]);
      }
      body.appendChild(row); // keeps the sorted order
      row.querySelector("[data-name]").textContent = a.name || a.username || ("#" + id);
      var state = row.querySelector("[data-state]");
      state.textContent = "";
      state.appendChild(el("span", { class: "rt-state st-" + a.state, text: cfg.states[a.state] || a.state }));
      if (a.not_responding) state.appendChild(el("span", { class: "badge pr-urgent", text: t("not_responding") }));
      row.querySelector("[data-reason]").textContent = a.reason || "";
      var load = a.tasks || a.load;
      row.querySelector("[data-load]").textContent = Array.isArray(load)
        ? load.map(function (task) { return t(task.channel) + " #" + (task.id || task.task_id); }).join(", ")
        : (load && typeof load === "object" ? Object.keys(load).filter(function (k) { return load[k]; })
            .map(function (k) { return t(k) + " " + load[k]; }).join(", ") : "");
    });
  }

  function renderKpis() {
    var counts = { available: 0, busy: 0, wrap_up: 0, "break": 0 };
    Object.keys(S.agents).forEach(function (id) { var s = S.agents[id].state; if (s in counts) counts[s] += 1; });
    Object.keys(counts).forEach(function (k) { $("kpi-" + k).textContent = counts[k]; });
    var waiting = 0, longest = 0;
    S.queues.forEach(function (q) { waiting += q.waiting || 0; if (q.waiting) longest = Math.max(longest, longestMs(q)); });
    $("kpi-waiting").textContent = waiting;
    $("kpi-longest").textContent = R.duration(longest);
    $("kpis").classList.toggle("rt-alert", longest > 60000);
  }

  // --- tasks (waiting and in progress) -------------------------------------------------------------------
  function renderTasks() {
    var body = $("tasks-table").tBodies[0];
    var keep = {};
    S.tasks.forEach(function (task) { keep[task.id] = task; });
    Array.prototype.slice.call(body.rows).forEach(function (row) {
      if (row.hasAttribute("data-task-row") && !keep[row.getAttribute("data-task-row")]) row.remove();
    });
    var empty = body.querySelector("[data-empty]");
    if (empty) empty.remove();
    if (!S.tasks.length) body.appendChild(el("tr", { "data-empty": "" }, [el("td", { colspan: 7, class: "muted", text: t("no_tasks") })]));
    S.tasks.forEach(function (task) {
      var row = body.querySelector('[data-task-row="' + task.id + '"]');
      if (!row) {
        var form = document.getElementById("tpl-move-form").content.firstElementChild.cloneNode(true);
        form.setAttribute("data-task", task.id);
        row = el("tr", { "data-task-row": task.id }, [
          el("td", { class: "mono", text: "#" + task.id }), el("td", { "data-ch": "" }), el("td", { "data-q": "" }),
          el("td", { "data-st": "" }), el("td", { "data-agent": "" }), el("td", { class: "num mono", "data-wait": "" }),
          el("td", {}, [form]),
        ]);
      }
      body.appendChild(row);
      row.querySelector("[data-ch]").textContent = t(task.channel);
      row.querySelector("[data-q]").textContent = (task.queue && task.queue.name) || task.queue_name || task.queue || "";
      row.querySelector("[data-st]").textContent = (cfg.task_states || {})[task.status] || task.status || "";
      var agent = task.agent_id != null && S.agents[task.agent_id];
      row.querySelector("[data-agent]").textContent = task.agent_name || (agent ? (agent.name || agent.username) : "");
    });
  }

  function tick() {
    Object.keys(S.agents).forEach(function (id) {
      var row = document.querySelector('[data-agent-row="' + id + '"] [data-timer]');
      var since = R.parse(S.agents[id].since);
      if (row) row.textContent = since ? R.duration(R.now() - since) : "";
    });
    S.queues.forEach(function (q) {
      var cell = document.querySelector('[data-queue-row="' + (q.id || q.code) + '"] [data-longest]');
      if (cell && q.waiting) cell.textContent = R.duration(longestMs(q));
    });
    S.tasks.forEach(function (task) {
      var cell = document.querySelector('[data-task-row="' + task.id + '"] [data-wait]');
      var q = R.parse(task.queued_at);
      if (cell) cell.textContent = q && (task.status === "queued" || task.status === "reserved") ? R.duration(R.now() - q) : "";
    });
    var longest = 0;
    S.queues.forEach(function (q) { if (q.waiting) longest = Math.max(longest, longestMs(q)); });
    $("kpi-longest").textContent = R.duration(longest);
    $("clock").textContent = R.clock(R.now()) + " · " + cfg.tz;
  }

  function render() { renderQueues(); renderAgents(); renderTasks(); renderKpis(); tick(); }

  var conn = R.connect(onMessage);

  document.addEventListener("submit", function (ev) {
    var form = ev.target;
    if (form.hasAttribute("data-state-form")) {
      ev.preventDefault();
      conn.send({ op: "set_state", user_id: Number(form.getAttribute("data-user")),
                  state: form.elements.state.value, reason: form.elements.reason.value });
    } else if (form.hasAttribute("data-move-form")) {
      ev.preventDefault();
      conn.send({ op: "move_task", task_id: Number(form.getAttribute("data-task")),
                  queue_id: Number(form.elements.queue.value) });
    }
  });

  setInterval(tick, 1000);
  setInterval(function () { conn.send({ op: "snapshot" }, true); }, 30000);
  render();
})();
