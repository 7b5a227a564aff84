// Shared by the agent desktop and the supervisor view: config, a self-healing websocket, time formatting.
(function () {
  "use strict";
  var cfg = JSON.parse(document.getElementById("desk-rt-config").textContent);
  var lang = document.documentElement.lang || "en";
  var skew = 0; // server clock minus ours, from the snapshot's "now"

  function t(key, params) {
    var text = (cfg.strings && cfg.strings[key]) || key;
    Object.keys(params || {}).forEach(function (k) { text = text.replace("%(" + k + ")s", params[k]); });
    return text;
  }

  function now() { return Date.now() + skew; }

  function parse(iso) { var v = iso ? Date.parse(iso) : NaN; return isNaN(v) ? null : v; }

  function duration(ms) {
    var s = Math.max(0, Math.floor(ms / 1000));
    var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
    var mm = (h ? String(m).padStart(2, "0") : String(m)) + ":" + String(sec).padStart(2, "0");
    return h ? h + ":" + mm : mm;
  }

  var clockFmt;
  try {
    clockFmt = new Intl.DateTimeFormat(lang, { timeZone: cfg.tz, hour: "2-digit", minute: "2-digit", hour12: false });
  } catch (e) {
    clockFmt = new Intl.DateTimeFormat(lang, { hour: "2-digit", minute: "2-digit" });
  }
  function clock(ms) { return ms == null ? "" : clockFmt.format(new Date(ms)); }

  // Small DOM builder: text always goes through textContent (payloads are never trusted as HTML).
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") node.textContent = attrs[k];
      else if (k === "class") node.className = attrs[k];
      else if (attrs[k] != null && attrs[k] !== false) node.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) { if (c != null) node.appendChild(typeof c === "string" ? document.createTextNode(c) : c); });
    return node;
  }

  var errTimer = null;
  function showError(message) {
    var box = document.getElementById("rt-error");
    if (!box) return;
    box.textContent = message;
    box.hidden = false;
    clearTimeout(errTimer);
    errTimer = setTimeout(function () { box.hidden = true; }, 7000);
  }

  // Reconnects with exponential backoff (1 s … 30 s, jittered); every (re)connect starts with a snapshot.
  function connect(onMessage, onOpen) {
    var indicator = document.getElementById("conn");
    var socket = null, attempt = 0, retryAt = 0, retryTimer = null, denied = false;

    function setConn(state, text) {
      indicator.className = "rt-conn " + state;
      indicator.textContent = text;
      document.body.classList.toggle("rt-disconnected", state !== "online");
    }

    function open() {
      setConn("connecting", t("connecting"));
      var scheme = location.protocol === "https:" ? "wss://" : "ws://";
      socket = new WebSocket(scheme + location.host + cfg.ws);
      socket.onopen = function () { attempt = 0; setConn("online", t("connected")); if (onOpen) onOpen(); };
      socket.onmessage = function (ev) {
        var msg;
        try { msg = JSON.parse(ev.data); } catch (e) { return; }
        if (msg.kind === "snapshot" && msg.now) { var n = parse(msg.now); if (n) skew = n - Date.now(); }
        if (msg.kind === "error") showError(msg.message || t("error"));
        onMessage(msg);
      };
      socket.onclose = function (ev) {
        socket = null;
        if (ev.code === 4403) { denied = true; setConn("offline", t("denied")); return; }
        // 4409: the user's access changed; reconnect at once to what they may see now.
        var delay = ev.code === 4409 ? 100 : Math.min(30000, 1000 * Math.pow(2, attempt)) * (0.8 + Math.random() * 0.4);
        attempt += 1;
        retryAt = Date.now() + delay;
        retryTimer = setTimeout(open, delay);
      };
    }

    // The browser knows it lost the network before the socket does (a dead TCP connection can look open for
    // minutes): show it at once, and dial again as soon as the network is back instead of at the next retry.
    window.addEventListener("offline", function () {
      if (!socket) return;
      var dead = socket;
      socket = null;
      dead.onclose = null;
      dead.close();
      clearTimeout(retryTimer);
      retryTimer = null;
      setConn("offline", t("offline", { s: "…" }));
    });
    window.addEventListener("online", function () {
      if (socket || denied) return;
      clearTimeout(retryTimer);
      retryTimer = null;
      attempt = 0;
      open();
    });

    setInterval(function () {
      if (!socket && !denied && retryTimer) {
        setConn("offline", t("offline", { s: Math.max(0, Math.ceil((retryAt - Date.now()) / 1000)) }));
      }
    }, 250);
    open();
    var api = {
      drop: function () { if (socket) socket.close(); },  // what a network blip does (used by the tests)
      send: function (msg, quiet) {
        if (socket && socket.readyState === WebSocket.OPEN) { socket.send(JSON.stringify(msg)); return true; }
        if (!quiet) showError(t("offline", { s: "…" }));
        return false;
      },
    };
    window.LiniaRT.conn = api;
    return api;
  }

  window.LiniaRT = { cfg: cfg, t: t, now: now, parse: parse, duration: duration, clock: clock, el: el,
                     showError: showError, connect: connect };
})();
