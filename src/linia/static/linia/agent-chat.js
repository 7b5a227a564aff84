// Agent desktop, chat tabs: live transcript (ordered by seq, deduplicated), composer with client ids and
// pending messages until the server's ack, typing both ways, canned responses, the first-response timer
// and unread badges. agent.js owns tabs and panels and calls into this module (window.LiniaAgentChat).
(function () {
  "use strict";
  var R = window.LiniaRT, cfg = R.cfg, t = R.t, el = R.el;
  var TYPING_SHOWN_MS = 8000, TYPING_EVERY_MS = 3000, TYPING_IDLE_MS = 4000;

  window.LiniaAgentChat = function (host) {
    // host: {conn(), tasks(), panel(id), active(), sound(), changed(), customer(id)}
    var chats = {};  // task id -> {messages: {seq: MSG}, pending: [..], lastSeq, unread, typingUntil, status, canned}

    function chat(id) {
      id = Number(id);
      if (!chats[id]) {
        chats[id] = { messages: {}, pending: [], lastSeq: 0, unread: 0, typingUntil: 0, status: "", canned: null,
                      sentTyping: 0, typingTimer: null, rendered: "" };
        host.conn().send({ op: "chat.history", task_id: id, after_seq: 0 }, true);
      }
      return chats[id];
    }

    function uuid() {
      if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
      return "c-" + Date.now().toString(36) + "-" + Math.random().toString(36).slice(2, 12);
    }

    // --- incoming -----------------------------------------------------------------------------------------
    function addMessage(id, msg) {
      if (!msg || msg.seq == null) return false;
      var c = chat(id);
      var fresh = !c.messages[msg.seq];
      c.messages[msg.seq] = msg;
      c.lastSeq = Math.max(c.lastSeq, Number(msg.seq));
      if (msg.client_id) c.pending = c.pending.filter(function (p) { return p.client_id !== msg.client_id; });
      if (msg.sender === "agent") firstResponse(id, msg.created_at);
      return fresh;
    }

    function firstResponse(id, at) {
      var task = host.tasks()[id];
      if (task && !task.first_response_at) task.first_response_at = at || new Date(R.now()).toISOString();
    }

    function onMessage(m) {
      var id = m.task_id != null ? Number(m.task_id) : null;
      if (m.kind === "chat.message" && id != null) {
        var fresh = addMessage(id, m.message);
        if (fresh && m.message && m.message.sender === "visitor") {
          chat(id).typingUntil = 0;
          var unseen = id !== host.active() || !document.hasFocus();
          if (unseen) chat(id).unread += 1;
          if (!document.hasFocus()) host.sound();
          if (unseen) host.changed();
        }
        renderChat(id);
        return true;
      }
      if (m.kind === "chat.history" && id != null) {
        if (m.chat && m.chat.status) chat(id).status = m.chat.status;
        (m.messages || []).forEach(function (msg) { addMessage(id, msg); });
        renderChat(id);
        return true;
      }
      if (m.kind === "chat.typing" && id != null) {
        chat(id).typingUntil = m.on ? R.now() + TYPING_SHOWN_MS : 0;
        renderTyping(id);
        return true;
      }
      if (m.kind === "chat.state" && id != null) {
        chat(id).status = m.status || "";
        renderChat(id);
        return true;
      }
      if (m.op === "chat.send" && id != null) {
        var c = chat(id), p = c.pending.filter(function (x) { return x.client_id === m.client_id; })[0];
        if (m.kind === "ack" && p) {  // the pushed MSG may come later (or never, on another node): the ack is enough
          addMessage(id, { seq: m.seq, client_id: m.client_id, sender: "agent", text: p.text,
                           agent: { name: cfg.user_name }, attachment: null, created_at: m.created_at });
        } else if (m.kind === "ack") {
          firstResponse(id, m.created_at);
        } else if (p) {
          p.failed = m.message || t("error");
        }
        renderChat(id);
        return true;
      }
      return false;
    }

    // After a (re)connect: fill gaps in every transcript and resend what was never acknowledged (same client ids:
    // the server stores each once).
    function resync() {
      Object.keys(chats).forEach(function (id) {
        var c = chats[id];
        host.conn().send({ op: "chat.history", task_id: Number(id), after_seq: c.lastSeq }, true);
        c.pending.forEach(function (p) { p.failed = ""; sendPending(Number(id), p); });
      });
    }

    // --- panel ----------------------------------------------------------------------------------------------
    function build(task) {
      var id = Number(task.id != null ? task.id : task.task_id);
      chat(id);
      var input = el("textarea", { rows: "3", "data-chat-input": id, "aria-label": t("chat_message"),
                                   placeholder: t("chat_placeholder"), maxlength: String(cfg.chat_max_chars || 2000) });
      return el("div", { class: "panel rt-chat", "data-chat": id }, [
        el("div", { class: "rt-chat-head" }, [
          el("h3", { text: t("chat") }),
          el("span", { class: "spacer" }),
          el("span", { class: "rt-frt", "data-frt": "", role: "timer", "aria-live": "off" }),
        ]),
        el("div", { class: "rt-chat-log", "data-chat-log": "", role: "log", "aria-live": "polite",
                    "aria-label": t("transcript"), tabindex: "0" }),
        el("div", { class: "rt-chat-typing small muted", "data-chat-typing": "", "aria-live": "polite" }),
        el("div", { class: "rt-chat-state small", "data-chat-state": "", hidden: "hidden" }),
        el("div", { class: "rt-canned", "data-canned": "", role: "listbox", "aria-label": t("canned"), hidden: "hidden" }),
        el("div", { class: "rt-composer" }, [
          input,
          el("div", { class: "rt-composer-bar" }, [
            el("span", { class: "small muted", text: t("composer_hint") }),
            el("span", { class: "spacer" }),
            el("button", { type: "button", class: "btn", "data-canned-open": id },
               [t("canned") + " ", el("span", { class: "kbd", text: "Ctrl+/" })]),
            el("button", { type: "button", class: "btn", "data-chat-end": id, text: t("end_chat") }),
            el("button", { type: "button", class: "btn primary", "data-chat-send": id },
               [t("send") + " ", el("span", { class: "kbd", text: "Enter" })]),
          ]),
        ]),
      ]);
    }

    function box(id) {
      var panel = host.panel(id);
      return panel ? panel.querySelector("[data-chat]") : null;
    }

    function safeUrl(url) {
      return typeof url === "string" && (/^https?:\/\//i.test(url) || /^\/(?!\/)/.test(url)) ? url : null;
    }

    function attachmentNode(a) {
      var url = safeUrl(a.url), name = a.name || t("attachment");
      if (!url) return el("div", { class: "rt-att small", text: "📎 " + name });
      if (/^image\/(png|jpeg|gif|webp)$/.test(a.content_type || "")) {
        return el("a", { class: "rt-att", href: url, target: "_blank", rel: "noopener" },
                  [el("img", { src: url, alt: name, class: "rt-thumb", loading: "lazy" })]);
      }
      var size = a.size ? " (" + Math.max(1, Math.round(a.size / 1024)) + " KB)" : "";
      return el("a", { class: "rt-att small", href: url, target: "_blank", rel: "noopener", download: "" },
                ["📎 " + name + size]);
    }

    function messageNode(id, msg, pending) {
      var who = msg.sender === "visitor" ? (host.customer(id) || t("customer"))
        : msg.sender === "agent" ? ((msg.agent && msg.agent.name) || cfg.user_name || t("agent")) : t("system");
      var when = R.parse(msg.created_at);
      var node = el("div", { class: "rt-msg from-" + (msg.sender || "system") + (pending ? " pending" : "") +
                             (pending && pending.failed ? " failed" : ""),
                             "data-seq": msg.seq != null ? msg.seq : null, "data-client-id": msg.client_id || null }, [
        el("div", { class: "rt-msg-meta small" }, [
          el("strong", { text: who }), " ",
          el("time", { datetime: msg.created_at || "", text: when ? R.clock(when) : "" }),
          pending ? el("span", { class: "muted", text: " · " + (pending.failed ? t("not_sent") + ": " + pending.failed : t("sending")) }) : null,
        ]),
        msg.text ? el("div", { class: "rt-msg-text", text: msg.text }) : null,
        msg.attachment ? attachmentNode(msg.attachment) : null,
      ]);
      return node;
    }

    function renderChat(id) {
      var b = box(id), c = chats[id];
      if (!b || !c) return;
      var seqs = Object.keys(c.messages).map(Number).sort(function (x, y) { return x - y; });
      var key = seqs.join(",") + "|" + c.pending.map(function (p) { return p.client_id + (p.failed ? "!" : ""); }).join(",");
      var log = b.querySelector("[data-chat-log]");
      if (key !== c.rendered) {
        c.rendered = key;
        var atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
        log.textContent = "";
        seqs.forEach(function (s) { log.appendChild(messageNode(id, c.messages[s], null)); });
        c.pending.forEach(function (p) {
          log.appendChild(messageNode(id, { client_id: p.client_id, sender: "agent", text: p.text, created_at: p.at }, p));
        });
        if (!seqs.length && !c.pending.length) log.appendChild(el("div", { class: "muted small", text: t("no_messages") }));
        if (atBottom || key.indexOf("|") === key.length - 1) log.scrollTop = log.scrollHeight;
      }
      var state = b.querySelector("[data-chat-state]");
      state.hidden = c.status !== "ended";
      state.textContent = c.status === "ended" ? t("chat_ended") : "";
      renderTyping(id);
      tickTimer(id);
    }

    function renderTyping(id) {
      var b = box(id), c = chats[id];
      if (!b || !c) return;
      b.querySelector("[data-chat-typing]").textContent = c.typingUntil > R.now() ? t("customer_typing") : "";
    }

    // The first-response timer: from the moment the chat was queued to the first agent reply (target: the
    // queue's answer target, 2 minutes by default); amber from 75 % of the target, red after it.
    function tickTimer(id) {
      var b = box(id), task = host.tasks()[id];
      if (!b || !task) return;
      var node = b.querySelector("[data-frt]");
      var start = R.parse(task.queued_at), done = R.parse(task.first_response_at);
      var target = 1000 * ((cfg.chat_targets && task.queue && cfg.chat_targets[task.queue.id]) || 120);
      if (start == null) { node.textContent = ""; return; }
      var elapsed = (done != null ? done : R.now()) - start;
      var level = elapsed >= target ? "late" : elapsed >= 0.75 * target ? "warn" : "ok";
      node.className = "rt-frt " + level + (done != null ? " done" : "");
      node.setAttribute("data-level", level);
      node.setAttribute("data-done", done != null ? "1" : "0");
      node.textContent = done != null ? t("first_reply_in", { t: R.duration(elapsed) })
        : t("first_reply_due", { t: R.duration(elapsed), target: R.duration(target) });
    }

    function tick() {
      Object.keys(chats).forEach(function (id) {
        if (!host.tasks()[id]) { delete chats[id]; return; }
        tickTimer(Number(id));
        renderTyping(Number(id));
      });
    }

    // --- composing ----------------------------------------------------------------------------------------
    function sendPending(id, p) {
      if (!host.conn().send({ op: "chat.send", task_id: id, text: p.text, client_id: p.client_id }, true)) {
        p.failed = t("offline", { s: "…" });
      }
    }

    function send(id) {
      var b = box(id);
      if (!b) return;
      var input = b.querySelector("[data-chat-input]"), text = input.value.trim();
      if (!text) return;
      var p = { client_id: uuid(), text: text, at: new Date(R.now()).toISOString(), failed: "" };
      chat(id).pending.push(p);
      input.value = "";
      closeCanned(id);
      sendPending(id, p);
      renderChat(id);
      input.focus();
    }

    function typing(id) {
      var c = chat(id), now = Date.now();
      if (now - c.sentTyping > TYPING_EVERY_MS) {
        c.sentTyping = now;
        host.conn().send({ op: "chat.typing", task_id: id, on: true }, true);
      }
      clearTimeout(c.typingTimer);
      c.typingTimer = setTimeout(function () {
        c.sentTyping = 0;
        host.conn().send({ op: "chat.typing", task_id: id, on: false }, true);
      }, TYPING_IDLE_MS);
    }

    function end(id) {
      host.conn().send({ op: "chat.end", task_id: id });
    }

    // --- canned responses -----------------------------------------------------------------------------------
    function loadCanned(id, then) {
      var c = chat(id);
      if (c.canned) { then(c.canned); return; }
      fetch(cfg.canned_url.replace("/0/", "/" + id + "/"), { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : { items: [] }; })
        .then(function (data) { c.canned = data.items || []; then(c.canned); })
        .catch(function () { then([]); });
    }

    function cannedBox(id) { var b = box(id); return b && b.querySelector("[data-canned]"); }

    function openCanned(id, fromSlash) {
      var list = cannedBox(id);
      if (!list) return;
      list.setAttribute("data-from-slash", fromSlash ? "1" : "");
      loadCanned(id, function () { list.hidden = false; filterCanned(id); });
    }

    function closeCanned(id) { var list = cannedBox(id); if (list) { list.hidden = true; list.textContent = ""; } }

    function query(id) {
      var b = box(id), input = b.querySelector("[data-chat-input]"), list = cannedBox(id);
      return list.getAttribute("data-from-slash") && input.value.charAt(0) === "/" ? input.value.slice(1).trim().toLowerCase() : "";
    }

    function filterCanned(id) {
      var list = cannedBox(id), items = chat(id).canned || [], q = query(id);
      var hits = items.filter(function (it) {
        return !q || (it.shortcut || "").toLowerCase().indexOf(q) === 0 || it.title.toLowerCase().indexOf(q) >= 0 ||
          it.text.toLowerCase().indexOf(q) >= 0;
      });
      list.textContent = "";
      if (!hits.length) { list.appendChild(el("div", { class: "muted small", text: t("no_canned") })); return; }
      hits.slice(0, 30).forEach(function (it, i) {
        list.appendChild(el("div", { class: "rt-canned-item" + (i === 0 ? " current" : ""), role: "option",
                                     "aria-selected": i === 0 ? "true" : "false", "data-canned-id": it.id }, [
          el("strong", { text: it.title }), it.shortcut ? el("span", { class: "kbd", text: "/" + it.shortcut }) : null,
          el("div", { class: "small muted", text: it.text }),
        ]));
      });
    }

    function moveCanned(id, delta) {
      var items = Array.prototype.slice.call(cannedBox(id).querySelectorAll(".rt-canned-item"));
      if (!items.length) return;
      var i = items.findIndex(function (n) { return n.classList.contains("current"); });
      var next = Math.max(0, Math.min(items.length - 1, i + delta));
      items.forEach(function (n, k) { n.classList.toggle("current", k === next); n.setAttribute("aria-selected", k === next ? "true" : "false"); });
      items[next].scrollIntoView({ block: "nearest" });
    }

    function pickCanned(id, cannedId) {
      var list = cannedBox(id), input = box(id).querySelector("[data-chat-input]");
      var current = cannedId != null ? cannedId : (list.querySelector(".rt-canned-item.current") || { getAttribute: function () { return null; } }).getAttribute("data-canned-id");
      var item = (chat(id).canned || []).filter(function (it) { return String(it.id) === String(current); })[0];
      if (!item) { closeCanned(id); return; }
      if (list.getAttribute("data-from-slash") && input.value.charAt(0) === "/") input.value = item.text;
      else {
        var at = input.selectionStart != null ? input.selectionStart : input.value.length;
        input.value = input.value.slice(0, at) + item.text + input.value.slice(input.selectionEnd != null ? input.selectionEnd : at);
      }
      closeCanned(id);
      input.focus();
      input.selectionStart = input.selectionEnd = input.value.length;
    }

    // --- events -------------------------------------------------------------------------------------------
    function idOf(node, attr) { var n = node.closest("[" + attr + "]"); return n ? Number(n.getAttribute(attr)) : null; }

    document.addEventListener("keydown", function (ev) {
      var target = ev.target;
      var inInput = target && target.matches && target.matches("[data-chat-input]");
      if (ev.ctrlKey && !ev.altKey && (ev.code === "Slash" || ev.key === "/")) {  // canned responses, from anywhere
        var id = inInput ? Number(target.getAttribute("data-chat-input")) : host.active();
        if (id == null || !box(id)) return;
        ev.preventDefault();
        var list = cannedBox(id);
        if (!list.hidden) { closeCanned(id); return; }
        box(id).querySelector("[data-chat-input]").focus();
        openCanned(id, false);
        return;
      }
      if (!inInput) return;
      var cid = Number(target.getAttribute("data-chat-input")), open = !cannedBox(cid).hidden;
      if (open && (ev.key === "ArrowDown" || ev.key === "ArrowUp")) { ev.preventDefault(); moveCanned(cid, ev.key === "ArrowDown" ? 1 : -1); }
      else if (open && ev.key === "Escape") { ev.preventDefault(); ev.stopPropagation(); closeCanned(cid); }
      else if (ev.key === "Enter" && !ev.shiftKey && !ev.altKey && !ev.ctrlKey && !ev.isComposing) {
        ev.preventDefault();
        if (open) pickCanned(cid, null); else send(cid);
      }
    }, true);

    document.addEventListener("input", function (ev) {
      var target = ev.target;
      if (!target.matches || !target.matches("[data-chat-input]")) return;
      var id = Number(target.getAttribute("data-chat-input"));
      if (target.value.charAt(0) === "/" && target.value.indexOf("\n") < 0) openCanned(id, true);
      else if (cannedBox(id).getAttribute("data-from-slash")) closeCanned(id);
      if (target.value.trim()) typing(id);
    });

    document.addEventListener("click", function (ev) {
      var target = ev.target.closest ? ev.target : null;
      if (!target) return;
      var id;
      if ((id = idOf(target, "data-chat-send")) != null) send(id);
      else if ((id = idOf(target, "data-chat-end")) != null) end(id);
      else if ((id = idOf(target, "data-canned-open")) != null) { box(id).querySelector("[data-chat-input]").focus(); openCanned(id, false); }
      else if (target.closest("[data-canned-id]")) {
        pickCanned(idOf(target, "data-chat"), target.closest("[data-canned-id]").getAttribute("data-canned-id"));
      }
    });

    return {
      onMessage: onMessage, build: build, render: renderChat, tick: tick, resync: resync, end: end,
      unread: function (id) { return chats[id] ? chats[id].unread : 0; },
      seen: function (id) { if (chats[id]) chats[id].unread = 0; },
      ended: function (id) { return chats[id] && chats[id].status === "ended"; },
      focus: function (id) { var b = box(id); if (b) b.querySelector("[data-chat-input]").focus(); },
    };
  };
})();
