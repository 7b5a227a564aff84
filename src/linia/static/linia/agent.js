// Agent desktop: presence, offers with countdown and sound, a tab per contact, wrap-up, keyboard shortcuts.
// State comes from the websocket snapshot (on every connect and after every operation) plus events.
(function () {
  "use strict";
  var R = window.LiniaRT, cfg = R.cfg, t = R.t, el = R.el;
  var S = { presence: "offline", reason: "", since: null, wrapupUntil: null, offers: {}, tasks: {}, load: null };
  var active = null;        // task id of the visible tab
  var announced = {};       // reservation ids already rung for
  var panels = {};          // task id -> panel element (kept so a snapshot never wipes a half-typed ticket)
  var pops = {};            // task id -> voice screen pop (may ring before the task is ours)
  var $ = function (id) { return document.getElementById(id); };
  var conn = null, resyncWanted = false;
  var chats = window.LiniaAgentChat({
    conn: function () { return conn; }, tasks: function () { return S.tasks; },
    panel: function (id) { return panels[id]; }, active: function () { return active; },
    sound: ring, changed: function () { renderTabs(); },
    customer: function (id) { return S.tasks[id] ? customerName(S.tasks[id]) || caller(S.tasks[id]) : ""; },
  });

  // --- payload helpers (tolerant: the task brief grows over time) ---------------------------------------
  function taskId(task) { return task.id != null ? task.id : task.task_id; }
  function attrs(task) { return task.attributes || {}; }
  function callerAddress(task) {  // a phone number or an email address, to prefill the contact
    var a = attrs(task);
    return task.caller || a.caller || a.caller_number || a.from || a.email || "";
  }
  function customerName(task) { var a = attrs(task); return a.customer || a.name || a.visitor || ""; }
  function caller(task) { return callerAddress(task) || customerName(task); }  // what the desktop shows
  function queueName(task) {
    if (task.queue && typeof task.queue === "object") return task.queue.name || task.queue.code || "";
    return task.queue_name || task.queue || "";
  }
  function screenPop(task) { return pops[taskId(task)] || task.screen_pop || attrs(task).screen_pop || null; }
  function popStore(pop) {
    var items = pop && pop.stores && pop.stores.items;
    return (items && items[0]) || (pop && (pop.store || pop.nearest_store)) || null;
  }
  function channelLabel(task) { return t(task.channel || "call"); }

  // --- state updates ------------------------------------------------------------------------------------
  function applySnapshot(m) {
    var p = m.presence && typeof m.presence === "object" ? m.presence : m;
    S.presence = p.state || (typeof m.presence === "string" ? m.presence : "offline");
    S.reason = p.reason || p.presence_reason || "";
    S.since = R.parse(p.since || p.presence_since);
    S.notResponding = !!(p.not_responding);
    S.wrapupUntil = R.parse(m.wrapup_until || p.wrapup_until);
    S.load = m.load || null;
    S.capacity = m.capacity || null;
    S.offers = {};
    (m.offers || []).forEach(function (o) { S.offers[o.reservation_id] = o; });
    S.tasks = {};
    (m.tasks || []).forEach(function (task) { S.tasks[taskId(task)] = task; });
  }

  function onMessage(m) {
    if (chats.onMessage(m)) return;
    switch (m.kind) {
      case "snapshot":
        applySnapshot(m);
        if (resyncWanted) { resyncWanted = false; chats.resync(); }
        break;
      case "offer": S.offers[m.reservation_id] = m; break;
      case "offer_cancelled":
        if (S.offers[m.reservation_id]) { delete S.offers[m.reservation_id]; }
        break;
      case "task_assigned": S.tasks[taskId(m.task)] = m.task; active = taskId(m.task); break;
      case "task_ended":
        if (S.tasks[m.task_id]) S.tasks[m.task_id].status = "wrap_up";
        break;
      case "wrap_up": S.wrapupUntil = R.parse(m.until); break;
      case "presence":
        S.presence = m.state; S.reason = m.reason || ""; S.since = R.parse(m.since);
        S.notResponding = !!m.not_responding;
        if (m.state !== "wrap_up") S.wrapupUntil = null;
        break;
      case "screen_pop":
        var popTask = m.task_id != null ? m.task_id : (m.call && m.call.task_id);
        if (popTask != null) pops[popTask] = m;
        break;
      default: return;
    }
    render();
  }

  // --- rendering ----------------------------------------------------------------------------------------
  function renderPresence() {
    var box = $("presence");
    box.setAttribute("data-state", S.presence);
    $("presence-label").textContent = (cfg.states[S.presence] || S.presence) +
      (S.notResponding ? " · " + t("not_responding") : "");
    $("presence-reason").textContent = S.reason ? "(" + S.reason + ")" : "";
    document.querySelectorAll("[data-set-state]").forEach(function (b) {
      b.classList.toggle("current", b.getAttribute("data-set-state") === S.presence);
    });
    var load = [];  // only the channels in use: "Chat 2/3"
    if (S.load && S.capacity) {
      Object.keys(S.load).forEach(function (ch) {
        if (S.load[ch]) load.push(t(ch) + " " + S.load[ch] + "/" + (S.capacity[ch] || "?"));
      });
    }
    $("load").textContent = load.join(" · ");
    $("wrapup").hidden = S.presence !== "wrap_up";
  }

  function currentOffer() {
    var ids = Object.keys(S.offers).sort(function (a, b) { return a - b; });
    return ids.length ? S.offers[ids[0]] : null;
  }

  var pageTitle = document.title;
  function renderOffer() {
    var offer = currentOffer(), box = $("offer");
    document.title = offer ? "● " + t("incoming") + " · " + pageTitle : pageTitle;  // visible from another tab
    if (!offer) { box.hidden = true; box.removeAttribute("data-reservation"); return; }
    var task = offer.task || {};
    if (box.getAttribute("data-reservation") !== String(offer.reservation_id)) {
      box.setAttribute("data-reservation", offer.reservation_id);
      box.setAttribute("data-channel", task.channel || "call");
      $("offer-title").textContent = t("incoming") + " · " + channelLabel(task);
      var body = $("offer-body");
      body.textContent = "";
      var pop = screenPop(task) || {};
      var contactName = (pop.contact && pop.contact.name) || task.contact_name || "";
      body.appendChild(el("div", { class: "rt-offer-who", text: contactName || caller(task) || t("unknown") }));
      if (contactName && caller(task)) body.appendChild(el("div", { class: "mono small", text: caller(task) }));
      body.appendChild(el("div", { class: "small muted", text: t("queue") + ": " + queueName(task) +
        (cfg.tenants && Object.keys(cfg.tenants).length > 1 && task.tenant_id ? " · " + (cfg.tenants[task.tenant_id] || "") : "") }));
      offer._total = Math.max(1000, (R.parse(offer.expires_at) || R.now()) - R.now());
      box.hidden = false;
      if (!announced[offer.reservation_id]) {
        announced[offer.reservation_id] = true;
        ring();
      }
    }
  }

  function ring() {
    var sound = $("offer-sound");
    if (sound && sound.play) { sound.currentTime = 0; var p = sound.play(); if (p && p.catch) p.catch(function () {}); }
  }

  function tickOffer() {
    var offer = currentOffer();
    if (!offer) return;
    var left = (R.parse(offer.expires_at) || 0) - R.now();
    if (left < -1500) {  // the server's expiry message may lag; an expired offer is never left on screen
      delete S.offers[offer.reservation_id];
      renderOffer();
      return;
    }
    $("offer-countdown").textContent = t("expires_in", { s: Math.max(0, Math.ceil(left / 1000)) });
    $("offer-bar").style.width = Math.max(0, Math.min(100, 100 * left / (offer._total || 15000))) + "%";
    $("offer").classList.toggle("urgent", left < 5000);
  }

  function orderedTasks() {
    return Object.keys(S.tasks).map(Number).sort(function (a, b) { return a - b; });
  }

  function renderTabs() {
    var ids = orderedTasks(), tabs = $("task-tabs");
    if (active == null || !S.tasks[active]) active = ids.length ? ids[0] : null;
    tabs.textContent = "";
    ids.forEach(function (id, i) {
      var task = S.tasks[id], unread = task.channel === "chat" ? chats.unread(id) : 0;
      var tab = el("button", { type: "button", role: "tab", class: "rt-tab" + (id === active ? " active" : ""),
        "aria-selected": id === active ? "true" : "false", "data-task-tab": id, "data-channel": task.channel },
        [el("span", { class: "rt-ch", text: channelLabel(task) }), " " + (caller(task) || "#" + id),
         unread ? el("span", { class: "rt-unread", "data-unread": unread, text: String(unread),
                               title: t("unread", { n: unread }), "aria-label": t("unread", { n: unread }) }) : null,
         task.status === "wrap_up" ? el("span", { class: "badge", text: t("ended") }) : null,
         el("span", { class: "kbd", text: i < 9 ? "Alt+" + (i + 1) : "" })]);
      tabs.appendChild(tab);
    });
    Object.keys(panels).forEach(function (id) {
      if (!S.tasks[id]) { panels[id].remove(); delete panels[id]; }
    });
    ids.forEach(function (id) {
      if (!panels[id]) { panels[id] = buildPanel(S.tasks[id]); $("task-panels").appendChild(panels[id]); }
      updatePanel(panels[id], S.tasks[id]);
      panels[id].hidden = id !== active;
    });
    $("no-tasks").hidden = ids.length > 0;
  }

  function buildPanel(task) {
    var id = taskId(task);
    var dispositions = (cfg.dispositions && cfg.dispositions[task.tenant_id]) ||
      (cfg.dispositions && cfg.dispositions[Object.keys(cfg.dispositions)[0]]) || [];
    var select = el("select", { "data-disposition": "", "aria-label": t("done") },
      [el("option", { value: "", text: "—" })].concat(dispositions.map(function (d) {
        return el("option", { value: d[0], text: d[1] });
      })));
    var endBtn = el("button", { type: "button", class: "btn primary", "data-complete": id },
      [t("complete") + " ", el("span", { class: "kbd", text: "Alt+E" })]);
    var queues = (cfg.queues || []).filter(function (q) { return !task.queue || q[0] !== task.queue.id; });
    var transfer = el("div", { class: "rt-inline rt-transfer" }, [
      el("select", { "data-transfer-queue": "", "aria-label": t("transfer") }, queues.map(function (q) {
        return el("option", { value: q[0], text: q[1] });
      })),
      el("button", { type: "button", class: "btn", "data-transfer": id, text: t("transfer") }),
    ]);
    var colleagues = (cfg.agents || []).filter(function (a) { return a[2] === task.tenant_id || task.tenant_id == null; });
    var toAgent = colleagues.length ? el("div", { class: "rt-inline rt-transfer" }, [
      el("select", { "data-transfer-agent": "", "aria-label": t("transfer_agent") }, colleagues.map(function (a) {
        return el("option", { value: a[0], text: a[1] });
      })),
      el("button", { type: "button", class: "btn", "data-transfer-to-agent": id, text: t("transfer_agent") }),
    ]) : null;
    var ticketBtn = task.channel === "chat" && task.ticket_id ?  // a chat comes with its ticket (the transcript is kept there)
      el("a", { class: "btn", href: "/tickets/" + task.ticket_id + "/", target: "_blank", rel: "noopener", text: t("open_ticket") }) :
      el("button", { type: "button", class: "btn", "data-open-ticket": id },
        [t("register_ticket") + " ", el("span", { class: "kbd", text: "Alt+T" })]);
    var panel = el("div", { class: "rt-task", role: "tabpanel", "data-task-panel": id }, [
      el("div", { class: "rt-task-head" }, [
        el("span", { class: "rt-ch big", "data-head-channel": "" }),
        el("strong", { "data-head-caller": "" }),
        el("span", { class: "muted", "data-head-queue": "" }),
        el("span", { class: "spacer" }),
        el("span", { class: "mono", "data-head-timer": "" }),
      ]),
      el("div", { class: "rt-task-cols" }, [
        el("div", { class: "rt-task-main" }, [
          task.channel === "chat" ? chats.build(task) : null,
          el("div", { class: "panel", "data-pop": "" }, [el("h3", { text: t("contact") })]),
          el("div", { class: "panel rt-ticket-panel" }, [
            el("div", { class: "toolbar" }, [ticketBtn, el("span", { class: "small", "data-ticket-note": "" })]),
            el("div", { "data-ticket-slot": "" }),
          ]),
        ]),
        el("div", { class: "rt-task-side" }, [
          el("div", { class: "panel rt-end", "data-end-box": "" }, [el("label", { text: t("done") }), select, endBtn,
            queues.length ? el("label", { text: t("transfer"), class: "rt-gap" }) : null, queues.length ? transfer : null,
            toAgent ? el("label", { text: t("transfer_agent"), class: "rt-gap" }) : null, toAgent]),
          el("div", { class: "panel", "data-context": "" }, [el("div", { class: "muted small", text: t("connecting") })]),
        ]),
      ]),
    ]);
    loadContext(panel, id);
    if (task.channel === "chat") setTimeout(function () { chats.render(id); }, 0);
    return panel;
  }

  function loadContext(panel, id) {
    fetch(cfg.context_url.replace("/0/", "/" + id + "/"), { headers: { "HX-Request": "true" }, credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : ""; })
      .then(function (html) { if (html) panel.querySelector("[data-context]").innerHTML = html; })
      .catch(function () {});
  }

  function renderPop(box, task) {
    var pop = screenPop(task);
    box.hidden = !pop;  // without the voice screen pop the server-side context panel says it all
    var key = JSON.stringify(pop || {}) + caller(task);
    if (box.getAttribute("data-key") === key) return;
    box.setAttribute("data-key", key);
    while (box.childNodes.length > 1) box.removeChild(box.lastChild);
    var rows = [[t("caller"), caller(task)], [t("queue"), queueName(task)]];
    if (pop) {
      var c = pop.contact || {};
      if (c.name) rows.push([t("contact"), c.name]);
      var store = popStore(pop);
      if (store) rows.push([t("store"), [store.name, store.city, store.address].filter(Boolean).join(", ")]);
    }
    var table = el("table", { class: "kv" });
    rows.forEach(function (r) { if (r[1]) table.appendChild(el("tr", {}, [el("th", { text: r[0] }), el("td", { text: r[1] })])); });
    box.appendChild(table);
    var tickets = pop && (pop.open_tickets || pop.tickets);
    if (tickets && tickets.length) {
      box.appendChild(el("h3", { text: t("open_tickets") }));
      tickets.slice(0, 5).forEach(function (tk) {
        box.appendChild(el("div", { class: "rt-ticket" }, [
          el("a", { href: tk.url || ("/tickets/" + tk.id + "/"), target: "_blank", rel: "noopener", class: "mono", text: tk.reference || ("#" + tk.id) }),
          " " + (tk.subject || "")]));
      });
    }
  }

  function updatePanel(panel, task) {
    panel.querySelector("[data-head-channel]").textContent = channelLabel(task);
    panel.querySelector("[data-head-caller]").textContent = caller(task) || t("unknown");
    panel.querySelector("[data-head-queue]").textContent = queueName(task);
    panel.querySelector("[data-end-box]").hidden = task.status === "wrap_up";
    panel.classList.toggle("ended", task.status === "wrap_up");
    renderPop(panel.querySelector("[data-pop]"), task);
  }

  function tickTasks() {
    orderedTasks().forEach(function (id) {
      var task = S.tasks[id], panel = panels[id];
      if (!panel) return;
      var start = R.parse(task.answered_at) || R.parse(task.queued_at);
      panel.querySelector("[data-head-timer]").textContent = start ? R.duration(R.now() - start) : "";
    });
  }

  function tick() {
    $("presence-timer").textContent = S.since ? R.duration(R.now() - S.since) : "";
    $("presence-timer").title = S.since ? t("since", { t: R.clock(S.since) }) : "";
    if (S.presence === "wrap_up") {
      var left = S.wrapupUntil ? S.wrapupUntil - R.now() : null;
      $("wrapup-left").textContent = left == null ? "" : left > 0 ? t("wrapup_left", { t: R.duration(left) }) : t("wrapup_over");
    }
    tickOffer();
    tickTasks();
    chats.tick();
  }

  function render() { renderPresence(); renderOffer(); renderTabs(); tick(); }

  // --- the ticket form: the desk's own new-ticket page, framed in the tab and filled from the contact -------
  function openTicket(id) {
    var panel = panels[id], task = S.tasks[id];
    if (!panel || !task) return;
    if (task.channel === "chat" && task.ticket_id) { window.open("/tickets/" + task.ticket_id + "/", "_blank", "noopener"); return; }
    var slot = panel.querySelector("[data-ticket-slot]");
    var frame = slot.querySelector("iframe");
    if (frame) { frame.focus(); return; }
    var channel = ["call", "chat", "email", "messenger"].indexOf(task.channel) >= 0 ? task.channel : "call";
    var store = popStore(screenPop(task));
    var url = cfg.ticket_new + "?channel=" + encodeURIComponent(channel) + "&task=" + encodeURIComponent(id) +
      (store && store.id ? "&store=" + store.id : "");
    frame = el("iframe", { src: url, class: "rt-frame", title: t("register_ticket") });
    frame.addEventListener("load", function () { framed(frame, panel, task); });
    slot.appendChild(frame);
  }

  function framed(frame, panel, task) {
    var doc;
    try { doc = frame.contentDocument; } catch (e) { return; }
    if (!doc || !doc.body) return;
    doc.body.classList.add("rt-embedded");
    var style = doc.createElement("style");
    style.textContent = ".topbar,.sidenav{display:none!important}.content{padding:.5rem}.shell{min-height:0}";
    doc.head.appendChild(style);
    var done = /\/tickets\/(\d+)\/$/.exec(frame.contentWindow.location.pathname);
    if (done) {
      var ref = doc.querySelector("h1");
      var note = panel.querySelector("[data-ticket-note]");
      note.textContent = "";
      note.appendChild(el("span", { class: "badge st-solved", text: t("ticket_registered") }));
      note.appendChild(el("a", { href: frame.contentWindow.location.pathname, target: "_blank", text: " " + (ref ? ref.textContent.trim().split("\n")[0] : "") }));
    } else {
      var who = callerAddress(task), name = panel.querySelector("[data-contact-name]");
      var phone = doc.getElementById("id_contact_phone"), email = doc.getElementById("id_contact_email");
      var nameInput = doc.getElementById("id_contact_name");
      if (who && who.indexOf("@") > 0 && email && !email.value) email.value = who;
      else if (who && phone && !phone.value) phone.value = who;
      if (name && nameInput && !nameInput.value) nameInput.value = name.textContent.trim();
      if (nameInput && !nameInput.value) nameInput.value = customerName(task);
      var subject = doc.getElementById("id_subject");
      if (subject) subject.focus();
    }
    var fit = function () { frame.style.height = Math.max(420, doc.documentElement.scrollHeight + 8) + "px"; };
    fit();
    if (frame._fit) clearInterval(frame._fit);
    frame._fit = setInterval(function () { try { fit(); } catch (e) { clearInterval(frame._fit); } }, 800);
  }

  // --- operations -----------------------------------------------------------------------------------------
  conn = R.connect(onMessage, function () { resyncWanted = true; });

  function accept() { var o = currentOffer(); if (o) conn.send({ op: "accept", reservation_id: o.reservation_id }); }
  function decline() { var o = currentOffer(); if (o) conn.send({ op: "decline", reservation_id: o.reservation_id }); }
  function ready() {
    conn.send(S.presence === "wrap_up" ? { op: "finish_wrapup" } : { op: "presence", state: "available", reason: "" });
  }
  function setState(state) {
    var reason = state === "break" ? $("break-reason").value : "";
    conn.send({ op: "presence", state: state, reason: reason });
  }
  function complete(id) {
    var panel = panels[id];
    if (!panel || !S.tasks[id] || S.tasks[id].status === "wrap_up") return;
    if (S.tasks[id].channel === "chat" && !chats.ended(id)) chats.end(Number(id));  // the customer is told first
    conn.send({ op: "complete", task_id: Number(id), disposition: panel.querySelector("[data-disposition]").value });
  }
  function transfer(id) {
    var panel = panels[id];
    var queue = panel && panel.querySelector("[data-transfer-queue]");
    if (queue && queue.value) conn.send({ op: "transfer", task_id: Number(id), queue_id: Number(queue.value) });
  }
  function transferToAgent(id) {
    var panel = panels[id];
    var agent = panel && panel.querySelector("[data-transfer-agent]");
    if (agent && agent.value) conn.send({ op: "transfer", task_id: Number(id), agent_id: Number(agent.value) });
  }
  function showTab(id) {
    if (!S.tasks[id]) return;
    active = Number(id);
    chats.seen(active);
    renderTabs();
    if (S.tasks[id].channel === "chat") chats.focus(active);
  }
  window.addEventListener("focus", function () { if (active != null && chats.unread(active)) { chats.seen(active); renderTabs(); } });

  document.addEventListener("click", function (ev) {
    var target = ev.target.closest ? ev.target : null;
    if (!target) return;
    var link = target.closest(".rt-dir-results a[href], .rt-context a[href]");
    if (link && !/^(tel|mailto):/.test(link.getAttribute("href"))) link.target = "_blank";  // keep the desktop open
    var b;
    if ((b = target.closest("[data-set-state]"))) {
      var state = b.getAttribute("data-set-state");
      if (state === "available") ready(); else setState(state);
    }
    else if (target.closest("#btn-accept")) accept();
    else if (target.closest("#btn-decline")) decline();
    else if (target.closest("#btn-finish-wrapup")) ready();
    else if ((b = target.closest("[data-complete]"))) complete(b.getAttribute("data-complete"));
    else if ((b = target.closest("[data-transfer]"))) transfer(b.getAttribute("data-transfer"));
    else if ((b = target.closest("[data-transfer-to-agent]"))) transferToAgent(b.getAttribute("data-transfer-to-agent"));
    else if ((b = target.closest("[data-open-ticket]"))) openTicket(Number(b.getAttribute("data-open-ticket")));
    else if ((b = target.closest("[data-task-tab]"))) showTab(b.getAttribute("data-task-tab"));
  });

  // Alt+letter by physical key (ev.code), so the shortcuts work the same on Russian and Polish layouts.
  document.addEventListener("keydown", function (ev) {
    if (!ev.altKey || ev.ctrlKey || ev.metaKey) return;
    var code = ev.code || "", handled = true;
    if (code === "KeyA") accept();
    else if (code === "KeyD") decline();
    else if (code === "KeyR") ready();
    else if (code === "KeyB") setState("break");
    else if (code === "KeyE") { if (active != null) complete(active); }
    else if (code === "KeyT") { if (active != null) openTicket(active); }
    else if (code === "KeyS") { var q = $("rt-dir-q"); q.focus(); q.select(); }
    else if (code === "KeyC") { if (active != null) chats.focus(active); }
    else if (/^Digit[1-9]$/.test(code)) { var ids = orderedTasks(), n = Number(code.slice(5)) - 1; if (ids[n] != null) showTab(ids[n]); }
    else handled = false;
    if (handled) ev.preventDefault();
  }, true);

  setInterval(tick, 1000);
  render();
})();
