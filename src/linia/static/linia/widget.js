/* Linia chat widget. Embed with one tag:
 *   <script src="https://HOST/static/linia/widget.js" data-channel="PUBLIC_KEY" async></script>
 * Optional: data-lang="en|ru|pl|fr". Plain JS, no build step. The UI lives in a Shadow DOM so the host
 * page's CSS cannot break it, and every piece of data is inserted with textContent (never as HTML).
 * Protocol: see CHAT_CONTRACT (HTTP under /chat/api/<key>/, websocket /ws/chat/<key>/?token=). */
(function () {
  "use strict";
  var script = document.currentScript ||
    document.querySelector('script[data-channel][src*="widget.js"]');
  if (!script || !script.getAttribute("data-channel")) return;
  var KEY = script.getAttribute("data-channel");
  var HOST = new URL(script.src, location.href).origin;
  var API = HOST + "/chat/api/" + encodeURIComponent(KEY);
  var WS = HOST.replace(/^http/, "ws") + "/ws/chat/" + encodeURIComponent(KEY) + "/?token=";
  var STORE = "linia-chat:" + KEY;
  if (window["__linia_chat_" + KEY]) return; // one widget per channel even if the tag is pasted twice
  window["__linia_chat_" + KEY] = true;

  // ---- strings -------------------------------------------------------------------------------
  var STRINGS = {
    en: {
      open: "Open chat", close: "Close chat", title: "Chat with us", name: "Your name", email: "Email",
      phone: "Phone", contactHint: "Phone or email, so we can answer you.", topic: "Topic", chooseTopic: "Choose a topic",
      consent: "I agree to the processing of my personal data.", message: "Your message", start: "Start chat",
      leaveMessage: "Send message", required: "This field is required.", needContact: "Enter a phone or an email.",
      send: "Send", attach: "Attach a file", typeHere: "Type a message", sending: "Sending…", notSent: "Not sent",
      waiting: "Waiting for an agent…", position: "Your place in the queue: {n}", chattingWith: "You are chatting with {name}",
      typing: "{name} is typing…", agent: "Agent", you: "You", system: "Info", end: "End chat",
      ended: "The chat has ended.", reconnecting: "Connection lost. Reconnecting…", offlineSent: "Thank you! Your message is saved as request {ref}.",
      rate: "How did we do?", stars: "{n} of 5", comment: "Comment (optional)", sendRating: "Send rating",
      thanks: "Thank you for your feedback!", transcript: "Email me the transcript", transcriptSent: "The transcript is on its way.",
      sendTranscript: "Send transcript", newChat: "Start a new chat", uploading: "Uploading {name}…",
      tooBig: "The file is too large (max {n} MB).", failed: "Something went wrong. Please try again.",
      unread: "New message", download: "Download {name}"
    },
    ru: {
      open: "Открыть чат", close: "Закрыть чат", title: "Напишите нам", name: "Ваше имя", email: "Эл. почта",
      phone: "Телефон", contactHint: "Телефон или эл. почта, чтобы мы могли ответить.", topic: "Тема", chooseTopic: "Выберите тему",
      consent: "Я согласен на обработку моих персональных данных.", message: "Ваше сообщение", start: "Начать чат",
      leaveMessage: "Отправить сообщение", required: "Обязательное поле.", needContact: "Укажите телефон или эл. почту.",
      send: "Отправить", attach: "Прикрепить файл", typeHere: "Введите сообщение", sending: "Отправляется…", notSent: "Не отправлено",
      waiting: "Ожидаем оператора…", position: "Ваше место в очереди: {n}", chattingWith: "Вам отвечает {name}",
      typing: "{name} печатает…", agent: "Оператор", you: "Вы", system: "Инфо", end: "Завершить чат",
      ended: "Чат завершён.", reconnecting: "Связь потеряна. Переподключаемся…", offlineSent: "Спасибо! Ваше сообщение сохранено как обращение {ref}.",
      rate: "Оцените, пожалуйста, нашу работу", stars: "{n} из 5", comment: "Комментарий (необязательно)", sendRating: "Отправить оценку",
      thanks: "Спасибо за отзыв!", transcript: "Прислать переписку на почту", transcriptSent: "Переписка отправлена.",
      sendTranscript: "Прислать переписку", newChat: "Начать новый чат", uploading: "Загружается {name}…",
      tooBig: "Файл слишком большой (не более {n} МБ).", failed: "Что-то пошло не так. Попробуйте ещё раз.",
      unread: "Новое сообщение", download: "Скачать {name}"
    },
    pl: {
      open: "Otwórz czat", close: "Zamknij czat", title: "Napisz do nas", name: "Imię", email: "E-mail",
      phone: "Telefon", contactHint: "Telefon lub e-mail, abyśmy mogli odpowiedzieć.", topic: "Temat", chooseTopic: "Wybierz temat",
      consent: "Wyrażam zgodę na przetwarzanie moich danych osobowych.", message: "Twoja wiadomość", start: "Rozpocznij czat",
      leaveMessage: "Wyślij wiadomość", required: "To pole jest wymagane.", needContact: "Podaj telefon lub e-mail.",
      send: "Wyślij", attach: "Dołącz plik", typeHere: "Napisz wiadomość", sending: "Wysyłanie…", notSent: "Nie wysłano",
      waiting: "Czekamy na konsultanta…", position: "Twoje miejsce w kolejce: {n}", chattingWith: "Rozmawiasz z: {name}",
      typing: "{name} pisze…", agent: "Konsultant", you: "Ty", system: "Info", end: "Zakończ czat",
      ended: "Czat został zakończony.", reconnecting: "Utracono połączenie. Łączenie ponownie…", offlineSent: "Dziękujemy! Wiadomość zapisano jako zgłoszenie {ref}.",
      rate: "Jak oceniasz rozmowę?", stars: "{n} z 5", comment: "Komentarz (opcjonalnie)", sendRating: "Wyślij ocenę",
      thanks: "Dziękujemy za opinię!", transcript: "Wyślij mi zapis rozmowy", transcriptSent: "Zapis rozmowy został wysłany.",
      sendTranscript: "Wyślij zapis", newChat: "Rozpocznij nowy czat", uploading: "Przesyłanie {name}…",
      tooBig: "Plik jest za duży (maks. {n} MB).", failed: "Coś poszło nie tak. Spróbuj ponownie.",
      unread: "Nowa wiadomość", download: "Pobierz {name}"
    },
    fr: {
      open: "Ouvrir le chat", close: "Fermer le chat", title: "Discutons", name: "Votre nom", email: "E-mail",
      phone: "Téléphone", contactHint: "Téléphone ou e-mail, pour que nous puissions vous répondre.", topic: "Sujet", chooseTopic: "Choisissez un sujet",
      consent: "J’accepte le traitement de mes données personnelles.", message: "Votre message", start: "Démarrer le chat",
      leaveMessage: "Envoyer le message", required: "Ce champ est obligatoire.", needContact: "Indiquez un téléphone ou un e-mail.",
      send: "Envoyer", attach: "Joindre un fichier", typeHere: "Écrivez un message", sending: "Envoi…", notSent: "Non envoyé",
      waiting: "En attente d’un conseiller…", position: "Votre place dans la file : {n}", chattingWith: "Vous discutez avec {name}",
      typing: "{name} écrit…", agent: "Conseiller", you: "Vous", system: "Info", end: "Terminer le chat",
      ended: "Le chat est terminé.", reconnecting: "Connexion perdue. Reconnexion…", offlineSent: "Merci ! Votre message est enregistré sous la demande {ref}.",
      rate: "Comment s’est passé l’échange ?", stars: "{n} sur 5", comment: "Commentaire (facultatif)", sendRating: "Envoyer la note",
      thanks: "Merci pour votre avis !", transcript: "M’envoyer la conversation par e-mail", transcriptSent: "La conversation vous a été envoyée.",
      sendTranscript: "Envoyer la conversation", newChat: "Démarrer un nouveau chat", uploading: "Envoi de {name}…",
      tooBig: "Le fichier est trop volumineux (max {n} Mo).", failed: "Une erreur est survenue. Veuillez réessayer.",
      unread: "Nouveau message", download: "Télécharger {name}"
    }
  };
  function pickLang() {
    var wanted = [script.getAttribute("data-lang")].concat(navigator.languages || [navigator.language]);
    for (var i = 0; i < wanted.length; i++) {
      var code = String(wanted[i] || "").slice(0, 2).toLowerCase();
      if (STRINGS[code]) return code;
    }
    return ""; // none we speak: the channel's own language, once its config is here (English until then)
  }
  var lang = pickLang();
  function t(key, vars) {
    var s = (STRINGS[lang] || STRINGS.en)[key] || STRINGS.en[key] || key;
    return s.replace(/\{(\w+)\}/g, function (_m, k) { return vars && vars[k] != null ? String(vars[k]) : ""; });
  }

  // ---- small DOM helpers (text only) -----------------------------------------------------------
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    if (attrs) for (var k in attrs) {
      if (k === "text") node.textContent = attrs[k];
      else if (k === "cls") node.className = attrs[k];
      else if (attrs[k] !== null && attrs[k] !== undefined && attrs[k] !== false) node.setAttribute(k, attrs[k] === true ? "" : attrs[k]);
    }
    (children || []).forEach(function (c) { if (c) node.appendChild(c); });
    return node;
  }
  function safeUrl(url) { // only http(s) links, resolved against the server (never javascript: or data:)
    try { var u = new URL(String(url), HOST); return /^https?:$/.test(u.protocol) ? u.href : null; } catch (e) { return null; }
  }
  function safeColour(c) { return /^(#[0-9a-fA-F]{3,8}|rgba?\([0-9.,%\s]+\))$/.test(String(c || "")) ? c : null; }
  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return "c" + Date.now().toString(36) + Math.random().toString(36).slice(2, 12);
  }
  function localized(value) { // config texts may come as plain text or as {lang: text}
    if (value && typeof value === "object") return value[lang] || value.en || value[Object.keys(value)[0]] || "";
    return value || "";
  }

  // ---- persisted session state (sessionStorage: survives reloads of this tab only) -------------
  function load() { try { return JSON.parse(sessionStorage.getItem(STORE)) || {}; } catch (e) { return {}; } }
  var S = load(); // {token, status, offline, ref, expected, open, messages: [MSG], pending: [{client_id,text}], done}
  S.messages = S.messages || [];
  if (!lang && S.lang) lang = S.lang; // a chat keeps the language it started in
  S.pending = S.pending || [];
  function save() {
    try {
      S.messages = S.messages.slice(-300);
      sessionStorage.setItem(STORE, JSON.stringify(S));
    } catch (e) { /* private mode: the chat still works without restore */ }
  }
  function lastSeq() { return S.messages.length ? S.messages[S.messages.length - 1].seq : 0; }

  // ---- styles ------------------------------------------------------------------------------
  var STYLE = [
    ":host{all:initial;--p:#0b6bcb;--op:#fff;font:14px/1.4 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#1d2330}",
    "*{box-sizing:border-box;font:inherit}",
    ".launch{position:fixed;right:20px;bottom:20px;z-index:2147483000;width:56px;height:56px;border-radius:50%;border:0;background:var(--p);color:var(--op);cursor:pointer;box-shadow:0 4px 14px rgba(0,0,0,.25)}",
    ".launch svg{width:28px;height:28px;fill:currentColor;vertical-align:middle}",
    ".badge{position:absolute;top:-2px;right:-2px;background:#d92d20;color:#fff;border-radius:9px;min-width:18px;height:18px;font-size:11px;line-height:18px}",
    ".panel{position:fixed;right:20px;bottom:88px;z-index:2147483000;width:360px;max-width:calc(100vw - 24px);height:540px;max-height:calc(100vh - 110px);display:flex;flex-direction:column;background:#fff;border-radius:12px;box-shadow:0 8px 30px rgba(0,0,0,.3);overflow:hidden}",
    ".panel[hidden],[hidden]{display:none!important}",
    "header{display:flex;align-items:center;gap:8px;padding:10px 12px;background:var(--p);color:var(--op)}",
    "header h2{flex:1;min-width:0;margin:0;font-size:16px;font-weight:600;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}",
    ".ag{display:flex;align-items:center;gap:6px;font-size:13px;max-width:45%;min-width:0}.ag span{overflow:hidden;text-overflow:ellipsis;white-space:nowrap}",
    ".ag img{width:28px;height:28px;flex:none;border-radius:50%;object-fit:cover;background:#fff}",
    ".x{flex:none}",
    "button{cursor:pointer}",
    ".x{background:transparent;border:0;color:inherit;font-size:22px;line-height:1;padding:2px 6px;border-radius:6px}",
    "button:focus-visible,input:focus-visible,select:focus-visible,textarea:focus-visible,a:focus-visible{outline:3px solid #f5a524;outline-offset:1px}",
    ".body{flex:1;overflow-y:auto;padding:12px}",
    ".note{color:#4a5263;margin:0 0 10px}",
    "form label{display:block;margin:8px 0 2px;font-weight:600}",
    "form input[type=text],form input[type=email],form input[type=tel],form select,form textarea{width:100%;padding:7px 8px;border:1px solid #9aa3b5;border-radius:6px;background:#fff;color:#1d2330}",
    "form .chk{display:flex;gap:6px;align-items:flex-start;font-weight:400}",
    "[aria-invalid=true]{border-color:#d92d20!important}",
    ".err{color:#b42318;font-size:12px;margin:2px 0 0}",
    ".btn{margin-top:12px;padding:8px 14px;border:0;border-radius:6px;background:var(--p);color:var(--op);font-weight:600}",
    ".btn.sec{background:#e8ebf1;color:#1d2330}",
    ".log{display:flex;flex-direction:column;gap:6px}",
    ".m{max-width:85%;padding:6px 10px;border-radius:10px;background:#eef1f6;white-space:pre-wrap;overflow-wrap:anywhere;align-self:flex-start}",
    ".m.visitor{align-self:flex-end;background:var(--p);color:var(--op)}",
    ".m.system{align-self:center;background:transparent;color:#4a5263;font-size:12px;text-align:center}",
    ".m .meta{display:block;font-size:11px;opacity:.75}",
    ".m.pending{opacity:.6}.m.failed{outline:1px solid #d92d20}",
    ".m img{max-width:100%;max-height:180px;display:block;border-radius:6px;margin-top:4px}",
    ".m a{color:inherit}",
    ".status{font-size:12px;color:#4a5263;padding:4px 12px;min-height:22px}",
    ".compose{display:flex;gap:6px;padding:8px;border-top:1px solid #e1e5ec;align-items:flex-end}",
    ".compose textarea{flex:1;resize:none;height:40px;padding:8px;border:1px solid #9aa3b5;border-radius:6px}",
    ".compose button{height:40px;border:0;border-radius:6px;padding:0 10px;background:#e8ebf1}",
    ".compose .snd{background:var(--p);color:var(--op);font-weight:600}",
    ".compose .att svg{width:20px;height:20px;fill:#4a5263;vertical-align:middle}",
    ".end{border:0;background:none;color:#4a5263;text-decoration:underline;padding:0;font-size:12px}",
    ".stars{display:flex;gap:4px;border:0;padding:0;margin:6px 0}",
    ".stars label{margin:0;font-weight:400;font-size:22px;cursor:pointer;color:#9aa3b5}",
    ".stars input{position:absolute;opacity:0;width:1px;height:1px}",
    ".stars label.on{color:#f5a524}.stars input:focus-visible+span{outline:3px solid #f5a524}",
    ".sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}",
    "hr{border:0;border-top:1px solid #e1e5ec;margin:14px 0}"
  ].join("\n");

  // ---- skeleton ------------------------------------------------------------------------------
  var hostEl = el("div", { id: "linia-chat", "data-channel": KEY });
  var root = hostEl.attachShadow ? hostEl.attachShadow({ mode: "open" }) : hostEl;
  root.appendChild(el("style", { text: STYLE }));
  function icon(d) { // a constant SVG path, built as nodes (nothing is ever parsed as HTML)
    var NS = "http://www.w3.org/2000/svg", g = document.createElementNS(NS, "svg"), p = document.createElementNS(NS, "path");
    g.setAttribute("viewBox", "0 0 24 24"); g.setAttribute("aria-hidden", "true"); g.setAttribute("focusable", "false");
    p.setAttribute("d", d); g.appendChild(p);
    return g;
  }
  var BUBBLE = "M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H8l-5 4V5a2 2 0 0 1 2-2z";
  var CLIP = "M16.5 6.5v10a4.5 4.5 0 0 1-9 0V5a3 3 0 0 1 6 0v10.5a1.5 1.5 0 0 1-3 0V6.5H9v9a3 3 0 0 0 6 0V5a4.5 4.5 0 0 0-9 0v11.5a6 6 0 0 0 12 0v-10z";
  var launcher = el("button", { cls: "launch", type: "button", "aria-label": t("open"), "aria-expanded": "false",
    "aria-controls": "lc-panel", "aria-haspopup": "dialog" });
  launcher.appendChild(icon(BUBBLE));
  var badge = el("span", { cls: "badge", hidden: true, "aria-hidden": "true" });
  launcher.appendChild(badge);
  var titleEl = el("h2", { id: "lc-title", text: t("title") });
  var agentBox = el("div", { cls: "ag", hidden: true });
  var closeBtn = el("button", { cls: "x", type: "button", "aria-label": t("close"), text: "×" });
  var body = el("div", { cls: "body" });
  var statusEl = el("div", { cls: "status", role: "status", "aria-live": "polite" });
  var panel = el("div", { cls: "panel", id: "lc-panel", role: "dialog", "aria-modal": "false",
    "aria-labelledby": "lc-title", hidden: true, lang: lang || "en" }, [
    el("header", null, [titleEl, agentBox, closeBtn]), body, statusEl]);
  root.appendChild(launcher);
  root.appendChild(panel);

  var config = null, wantFocus = false;
  var screen = null; // "form" | "chat" | "offline" | "end"
  var ws = null, wsBackoff = 0, wsTimer = null, wsAlive = false, unread = 0;
  var logEl = null, composeBox = null, typingTimer = null, typingSent = false, agentTypingTimer = null;

  function setOpen(open, noFocus) {
    panel.hidden = !open;
    launcher.setAttribute("aria-expanded", open ? "true" : "false");
    launcher.setAttribute("aria-label", open ? t("close") : t("open"));
    S.open = open; save();
    if (open) {
      unread = 0; badge.hidden = true;
      scrollDown(); // a log drawn while the panel was closed has no height yet
      if (!config) { wantFocus = !noFocus; loadConfig(); } // focus moves to the form once it is there
      else if (!noFocus) focusScreen();
    } else if (!noFocus) launcher.focus();
  }
  launcher.addEventListener("click", function () { setOpen(panel.hidden); });
  closeBtn.addEventListener("click", function () { setOpen(false); });
  panel.addEventListener("keydown", function (e) {
    if (e.key === "Escape") { e.stopPropagation(); setOpen(false); }
  });
  function focusScreen() {
    var first = body.querySelector("[data-autofocus]") || body.querySelector("input,select,textarea,button");
    var target = screen === "chat" && composeBox ? composeBox.querySelector("textarea") : first;
    if (target) target.focus(); else closeBtn.focus();
  }

  // ---- HTTP ----------------------------------------------------------------------------------
  function request(method, path, data, isForm) {
    var opts = { method: method, credentials: "omit", headers: { Accept: "application/json" } };
    if (data && !isForm) { opts.headers["Content-Type"] = "application/json"; opts.body = JSON.stringify(data); }
    if (isForm) opts.body = data;
    var sep = path.indexOf("?") < 0 ? "?" : "&";
    return fetch(API + path + (lang ? sep + "lang=" + lang : ""), opts).then(function (r) {
      return r.text().then(function (txt) {
        var json = null;
        try { json = txt ? JSON.parse(txt) : {}; } catch (e) { json = {}; }
        if (!r.ok) { var err = new Error(json.message || t("failed")); err.data = json; err.status = r.status; throw err; }
        return json;
      });
    });
  }

  function loadConfig() {
    return request("GET", "/config").then(function (c) {
      config = c;
      if (!lang && STRINGS[c.language]) { // the server chose (Accept-Language, else the channel's language)
        lang = c.language;
        panel.setAttribute("lang", lang);
        closeBtn.setAttribute("aria-label", t("close"));
        launcher.setAttribute("aria-label", panel.hidden ? t("open") : t("close"));
        titleEl.textContent = t("title");
      }
      var colours = c.colours || {};
      if (safeColour(colours.primary)) hostEl.style.setProperty("--p", colours.primary);
      if (safeColour(colours.on_primary)) hostEl.style.setProperty("--op", colours.on_primary);
      if (c.name) { titleEl.textContent = c.name; titleEl.title = c.name; }
      render();
      if (!panel.hidden && wantFocus) focusScreen();
      wantFocus = false;
    }, function () {
      body.textContent = "";
      body.appendChild(el("p", { cls: "err", role: "alert", text: t("failed") }));
    });
  }

  // ---- screens -------------------------------------------------------------------------------
  function render() {
    if (S.token && S.offline) return showOffline();
    if (S.token && S.status === "ended") return showEnd();
    if (S.token) return showChat();
    if (config) showForm();
  }

  function field(name, label, input, hint) {
    input.id = "lc-f-" + name; input.name = name;
    var err = el("p", { cls: "err", id: "lc-e-" + name, hidden: true });
    input.setAttribute("aria-describedby", err.id + (hint ? " " + hint.id : ""));
    var lab = el("label", { "for": input.id, text: label });
    return el("div", { "data-field": name }, [lab, input, hint, err]);
  }
  function showErrors(form, fields, message) {
    form.querySelectorAll(".err").forEach(function (p) { p.hidden = true; p.textContent = ""; });
    form.querySelectorAll("[aria-invalid]").forEach(function (i) { i.removeAttribute("aria-invalid"); });
    var firstBad = null, general = [];
    Object.keys(fields || {}).forEach(function (name) {
      var msgs = [].concat(fields[name]).join(" ");
      var p = form.querySelector("#lc-e-" + name);
      var input = form.querySelector("#lc-f-" + name);
      if (!p) { general.push(msgs); return; }
      p.textContent = msgs; p.hidden = false;
      if (input) { input.setAttribute("aria-invalid", "true"); firstBad = firstBad || input; }
    });
    var top = form.querySelector(".err.top");
    if (message && !firstBad) general.unshift(message);
    top.textContent = general.join(" "); top.hidden = !general.length;
    if (firstBad) firstBad.focus();
  }

  function showForm() {
    screen = "form";
    body.textContent = "";
    var c = config;
    var greeting = localized(c.greeting);
    if (greeting) body.appendChild(el("p", { cls: "note", text: greeting }));
    if (!c.open) body.appendChild(el("p", { cls: "note", "data-offline": true, text: localized(c.offline_text) }));
    var form = el("form", { novalidate: true, "aria-labelledby": "lc-title" });
    form.appendChild(el("p", { cls: "err top", role: "alert", hidden: true }));
    var name = el("input", { type: "text", autocomplete: "name", maxlength: "200", "data-autofocus": true });
    var hint = el("p", { cls: "note", id: "lc-contact-hint", text: t("contactHint") });
    var email = el("input", { type: "email", autocomplete: "email", maxlength: "254" });
    var phone = el("input", { type: "tel", autocomplete: "tel", maxlength: "40" });
    form.appendChild(field("name", t("name"), name));
    form.appendChild(hint);
    form.appendChild(field("email", t("email"), email, hint));
    form.appendChild(field("phone", t("phone"), phone, hint));
    var topic = null;
    if ((c.topics || []).length) {
      topic = el("select", null, [el("option", { value: "", text: t("chooseTopic") })]);
      c.topics.forEach(function (tp) { topic.appendChild(el("option", { value: tp.code, text: localized(tp.label || tp.labels) })); });
      form.appendChild(field("topic", t("topic"), topic));
    }
    var text = el("textarea", { rows: "3", maxlength: String(c.max_message_chars || 4000) });
    form.appendChild(field("text", t("message"), text));
    var consent = null;
    if (c.consent_required) {
      consent = el("input", { type: "checkbox", id: "lc-f-consent", name: "consent", "aria-describedby": "lc-e-consent" });
      form.appendChild(el("div", { "data-field": "consent" }, [
        el("label", { cls: "chk" }, [consent, el("span", { text: localized(c.consent_text) || t("consent") })]),
        el("p", { cls: "err", id: "lc-e-consent", hidden: true })]));
    }
    var submit = el("button", { cls: "btn", type: "submit", text: c.open ? t("start") : t("leaveMessage") });
    form.appendChild(submit);
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var errs = {};
      if (!name.value.trim()) errs.name = [t("required")];
      if (!email.value.trim() && !phone.value.trim()) errs.email = [t("needContact")];
      if (topic && !topic.value) errs.topic = [t("required")];
      if (!c.open && !text.value.trim()) errs.text = [t("required")];
      if (consent && !consent.checked) errs.consent = [t("required")];
      if (Object.keys(errs).length) return showErrors(form, errs);
      submit.disabled = true;
      request("POST", "/sessions", {
        name: name.value.trim(), email: email.value.trim(), phone: phone.value.trim(),
        topic: topic ? topic.value : "", consent: consent ? consent.checked : false, language: lang,
        page_url: location.href, text: text.value.trim()
      }).then(function (r) {
        S = { token: r.token, status: r.status, offline: !!r.offline, ref: r.ticket_reference, expected: r.expected_reply,
          open: true, messages: [], pending: [], email: email.value.trim(), lang: lang };
        save();
        render();
        focusScreen();
      }, function (err) {
        submit.disabled = false;
        showErrors(form, (err.data && err.data.fields) || {}, err.message);
      });
    });
    body.appendChild(form);
  }

  function showOffline() {
    screen = "offline";
    body.textContent = "";
    var box = el("div", { role: "status" }, [
      el("p", { cls: "note", "data-offline-sent": true, text: t("offlineSent", { ref: S.ref || "" }) }),
      S.expected ? el("p", { cls: "note", "data-expected": true, text: S.expected }) : null]);
    body.appendChild(box);
    body.appendChild(transcriptForm());
    body.appendChild(newChatButton());
  }

  function showChat() {
    screen = "chat";
    body.textContent = "";
    logEl = el("div", { cls: "log", role: "log", "aria-live": "polite", "aria-relevant": "additions", "aria-labelledby": "lc-title" });
    body.appendChild(logEl);
    S.messages.forEach(function (m) { drawMessage(m); });
    S.pending.forEach(function (p) { drawPending(p); });
    if (!composeBox) {
      var ta = el("textarea", { "aria-label": t("message"), placeholder: t("typeHere"), rows: "1",
        maxlength: String((config && config.max_message_chars) || 4000) });
      var file = el("input", { type: "file", hidden: true, tabindex: "-1" });
      var attach = el("button", { type: "button", cls: "att", "aria-label": t("attach"), title: t("attach") }, [icon(CLIP)]);
      var sendBtn = el("button", { type: "button", cls: "snd", text: t("send") });
      var endBtn = el("button", { type: "button", cls: "end", text: t("end") });
      composeBox = el("div", { cls: "compose" }, [attach, file, ta, sendBtn]);
      var endRow = el("div", { cls: "status" }, [endBtn]);
      panel.appendChild(composeBox);
      panel.appendChild(endRow);
      composeBox.endRow = endRow;
      ta.addEventListener("keydown", function (e) {
        if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); sendText(ta); }
      });
      ta.addEventListener("input", function () { typing(!!ta.value); });
      sendBtn.addEventListener("click", function () { sendText(ta); ta.focus(); });
      attach.addEventListener("click", function () { file.click(); });
      file.addEventListener("change", function () { if (file.files[0]) upload(file.files[0]); file.value = ""; });
      endBtn.addEventListener("click", function () { wsSend({ type: "end" }); });
    }
    composeBox.hidden = false; composeBox.endRow.hidden = false;
    scrollDown();
    connect();
  }

  function hideCompose() { if (composeBox) { composeBox.hidden = true; composeBox.endRow.hidden = true; } }

  function showEnd() {
    var hadFocus = !panel.hidden && panel.contains(root.activeElement || null) && root.activeElement !== closeBtn;
    screen = "end";
    hideCompose();
    disconnect();
    body.textContent = "";
    var note = el("p", { cls: "note", role: "status", tabindex: "-1", text: t("ended") });
    body.appendChild(note);
    if (!S.rated) body.appendChild(ratingForm()); else body.appendChild(el("p", { cls: "note", text: t("thanks") }));
    body.appendChild(el("hr"));
    body.appendChild(transcriptForm());
    body.appendChild(newChatButton());
    statusEl.textContent = "";
    if (hadFocus) note.focus(); // the message box the focus was in is gone
  }

  function newChatButton() {
    var b = el("button", { cls: "btn sec", type: "button", text: t("newChat") });
    b.addEventListener("click", function () {
      disconnect();
      S = { open: true, messages: [], pending: [], lang: S.lang }; save();
      agentBox.hidden = true; statusEl.textContent = ""; hideCompose();
      if (config) { showForm(); focusScreen(); } else loadConfig();
    });
    return b;
  }

  function ratingForm() {
    var form = el("form", { "data-rating": true, novalidate: true });
    form.appendChild(el("p", { cls: "err top", role: "alert", hidden: true }));
    var group = el("fieldset", { cls: "stars", role: "radiogroup", "aria-labelledby": "lc-rate" });
    var labels = [];
    for (var n = 1; n <= 5; n++) {
      var r = el("input", { type: "radio", name: "score", value: String(n), id: "lc-f-score-" + n });
      var lab = el("label", { "for": r.id, title: t("stars", { n: n }) }, [r, el("span", { "aria-hidden": "true", text: "★" }),
        el("span", { cls: "sr", text: t("stars", { n: n }) })]);
      labels.push(lab); group.appendChild(lab);
    }
    group.addEventListener("change", function () {
      var v = +(form.querySelector("input[name=score]:checked") || {}).value || 0;
      labels.forEach(function (l, i) { l.className = i < v ? "on" : ""; });
    });
    form.appendChild(el("p", { id: "lc-rate", cls: "note", text: t("rate") }));
    form.appendChild(el("div", { "data-field": "score" }, [group, el("p", { cls: "err", id: "lc-e-score", hidden: true })]));
    var comment = el("textarea", { rows: "2", maxlength: "2000" });
    form.appendChild(field("comment", t("comment"), comment));
    var submit = el("button", { cls: "btn", type: "submit", text: t("sendRating") });
    form.appendChild(submit);
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var chosen = form.querySelector("input[name=score]:checked");
      if (!chosen) return showErrors(form, { score: [t("required")] });
      submit.disabled = true;
      request("POST", "/sessions/" + encodeURIComponent(S.token) + "/rating", { score: +chosen.value, comment: comment.value.trim() })
        .then(function () {
          S.rated = true; save();
          var p = el("p", { cls: "note", role: "status", tabindex: "-1", "data-thanks": true, text: t("thanks") });
          form.replaceWith(p); p.focus();
        }, function (err) { submit.disabled = false; showErrors(form, (err.data && err.data.fields) || {}, err.message); });
    });
    return form;
  }

  function transcriptForm() {
    var form = el("form", { "data-transcript": true, novalidate: true });
    form.appendChild(el("p", { cls: "err top", role: "alert", hidden: true }));
    var email = el("input", { type: "email", autocomplete: "email", maxlength: "254", value: S.email || "" });
    form.appendChild(field("temail", t("transcript"), email));
    var submit = el("button", { cls: "btn sec", type: "submit", text: t("sendTranscript") });
    form.appendChild(submit);
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      if (!email.value.trim()) return showErrors(form, { temail: [t("required")] });
      submit.disabled = true;
      request("POST", "/sessions/" + encodeURIComponent(S.token) + "/transcript", { email: email.value.trim() })
        .then(function () {
          var p = el("p", { cls: "note", role: "status", "data-transcript-sent": true, text: t("transcriptSent") });
          form.replaceWith(p);
        }, function (err) {
          submit.disabled = false;
          var f = (err.data && err.data.fields) || {};
          showErrors(form, f.email ? { temail: f.email } : f, err.message);
        });
    });
    return form;
  }

  // ---- messages ------------------------------------------------------------------------------
  function timeOf(iso) {
    var d = iso ? new Date(iso) : new Date();
    return isNaN(d) ? "" : d.toLocaleTimeString(lang || undefined, { hour: "2-digit", minute: "2-digit" });
  }
  function bubble(m) {
    var who = m.sender === "visitor" ? t("you") : m.sender === "agent" ? ((m.agent && m.agent.name) || t("agent")) : t("system");
    var node = el("div", { cls: "m " + (m.sender || "system") });
    node.appendChild(el("span", { cls: "meta", text: who + " · " + timeOf(m.created_at) }));
    if (m.text) node.appendChild(el("span", { cls: "txt", text: m.text }));
    var a = m.attachment, href = a && safeUrl(a.url);
    if (a && href) {
      var link = el("a", { href: href, target: "_blank", rel: "noopener noreferrer", "aria-label": t("download", { name: a.name }) });
      if (/^image\/(png|jpeg|gif|webp)$/.test(a.content_type || "")) link.appendChild(el("img", { src: href, alt: a.name || "" }));
      else link.textContent = a.name || "file";
      node.appendChild(link);
    }
    return node;
  }
  function drawMessage(m) {
    if (!logEl) return;
    var node = bubble(m);
    node.setAttribute("data-seq", m.seq);
    if (m.client_id) node.setAttribute("data-client-id", m.client_id);
    // keep seq order; pending (unsequenced) bubbles stay at the end
    var after = null, kids = logEl.children;
    for (var i = 0; i < kids.length; i++) {
      var s = kids[i].getAttribute("data-seq");
      if (!s || +s > m.seq) { after = kids[i]; break; }
    }
    logEl.insertBefore(node, after);
  }
  function drawPending(p) {
    if (!logEl) return;
    var node = bubble({ sender: "visitor", text: p.text, created_at: p.at });
    node.className += " pending";
    node.setAttribute("data-client-id", p.client_id);
    node.setAttribute("data-pending", "");
    node.appendChild(el("span", { cls: "meta state", text: p.error || t("sending") }));
    if (p.error) node.className += " failed";
    logEl.appendChild(node);
  }
  function pendingNode(cid) {
    return logEl && logEl.querySelector('[data-pending][data-client-id="' + (window.CSS && window.CSS.escape ? window.CSS.escape(cid) : cid) + '"]');
  }
  function haveSeq(seq) {
    for (var i = S.messages.length - 1; i >= 0; i--) if (S.messages[i].seq === seq) return true;
    return false;
  }
  function addMessage(m) {
    if (typeof m.seq !== "number" || haveSeq(m.seq)) { if (m.client_id) dropPending(m.client_id); return; }
    if (m.client_id) dropPending(m.client_id);
    var i = S.messages.length;
    while (i > 0 && S.messages[i - 1].seq > m.seq) i--;
    S.messages.splice(i, 0, m);
    save();
    drawMessage(m);
    if (m.sender === "agent") {
      showAgentTyping(false);
      if (m.agent) showAgent(m.agent);
      if (panel.hidden) { unread++; badge.textContent = String(unread); badge.hidden = false; launcher.setAttribute("aria-label", t("open") + " (" + t("unread") + ")"); }
    }
    scrollDown();
  }
  function dropPending(cid) {
    S.pending = S.pending.filter(function (p) { return p.client_id !== cid; });
    save();
    var n = pendingNode(cid);
    if (n) n.remove();
  }
  function scrollDown() { body.scrollTop = body.scrollHeight; }

  function sendText(ta) {
    var text = ta.value.trim();
    if (!text) return;
    var max = (config && config.max_message_chars) || 4000;
    if (text.length > max) text = text.slice(0, max);
    ta.value = "";
    typing(false);
    var p = { client_id: uuid(), text: text, at: new Date().toISOString() };
    S.pending.push(p); save();
    drawPending(p); scrollDown();
    if (wsAlive) { wsSend({ type: "message", client_id: p.client_id, text: p.text }); p.sent = Date.now(); }
    // otherwise it goes out (with the same client id) as soon as the socket is back: see onHistory
  }

  function typing(on) {
    clearTimeout(typingTimer);
    if (on) typingTimer = setTimeout(function () { typing(false); }, 3000);
    if (on === typingSent) return;
    typingSent = on;
    wsSend({ type: "typing", on: on });
  }

  // A network failure, 429 or 5xx is tried again (1, 2, 4 s) with the same client_id: the server stores the
  // file once whatever the number of tries. A refusal (too large, blocked type) is shown at once.
  var UPLOAD_TRIES = 4;
  function upload(file, cid, attempt) {
    var max = config && config.max_file_bytes;
    if (max && file.size > max) { statusEl.textContent = t("tooBig", { n: Math.round(max / 1048576) }); return; }
    cid = cid || uuid();
    attempt = attempt || 0;
    statusEl.textContent = t("uploading", { name: file.name });
    var fd = new FormData();
    fd.append("file", file); fd.append("client_id", cid);
    request("POST", "/sessions/" + encodeURIComponent(S.token) + "/files", fd, true).then(function (r) {
      statusEl.textContent = "";
      if (r.message) addMessage(r.message);
    }, function (err) {
      var transient = !err.status || err.status === 429 || err.status >= 500;
      if (transient && attempt + 1 < UPLOAD_TRIES) {
        setTimeout(function () { upload(file, cid, attempt + 1); }, 1000 * Math.pow(2, attempt));
        return;
      }
      statusEl.textContent = err.message;
    });
  }

  function showAgent(agent) {
    agentBox.textContent = "";
    if (!agent || !agent.name) { agentBox.hidden = true; return; }
    var src = agent.avatar_url && safeUrl(agent.avatar_url);
    if (src) agentBox.appendChild(el("img", { src: src, alt: "" }));
    agentBox.appendChild(el("span", { cls: "agent-name", text: agent.name }));
    agentBox.hidden = false;
  }
  function showAgentTyping(on, name) {
    clearTimeout(agentTypingTimer);
    var node = body.querySelector(".typing");
    if (!on) { if (node) node.remove(); return; }
    if (!node) { node = el("p", { cls: "note typing", "aria-live": "polite" }); body.appendChild(node); }
    node.textContent = t("typing", { name: name || t("agent") });
    scrollDown();
    agentTypingTimer = setTimeout(function () { showAgentTyping(false); }, 8000);
  }

  function applyState(st) {
    S.status = st.status; save();
    showAgent(st.agent);
    if (st.status === "ended") return showEnd();
    if (st.status === "offline") { S.offline = true; save(); disconnect(); hideCompose(); return showOffline(); }
    if (st.status === "active" && st.agent) statusEl.textContent = t("chattingWith", { name: st.agent.name });
    else if (st.status === "waiting") statusEl.textContent = st.queue_position ? t("position", { n: st.queue_position }) : t("waiting");
  }

  // ---- websocket -----------------------------------------------------------------------------
  function wsSend(obj) {
    if (ws && ws.readyState === 1) { ws.send(JSON.stringify(obj)); return true; }
    return false;
  }
  function connect() {
    if (ws || !S.token || screen !== "chat") return;
    clearTimeout(wsTimer);
    var sock = new WebSocket(WS + encodeURIComponent(S.token) + "&lang=" + lang);
    ws = sock;
    sock.onopen = function () { sock.send(JSON.stringify({ type: "resume", after_seq: lastSeq() })); };
    sock.onmessage = function (ev) {
      var d;
      try { d = JSON.parse(ev.data); } catch (e) { return; }
      if (d.type === "history") onHistory(d);
      else if (d.type === "message") addMessage(d);
      else if (d.type === "ack") onAck(d);
      else if (d.type === "state") applyState(d);
      else if (d.type === "typing") showAgentTyping(d.on, d.agent);
      else if (d.type === "error") onError(d);
    };
    sock.onclose = function (ev) {
      if (ws !== sock) return;
      ws = null; wsAlive = false;
      if (ev.code === 4403 || ev.code === 4404) { // the session is gone: start over
        S = { open: S.open, messages: [], pending: [] }; save();
        hideCompose(); agentBox.hidden = true; statusEl.textContent = "";
        return config ? showForm() : loadConfig();
      }
      if (screen !== "chat") return;
      statusEl.textContent = t("reconnecting");
      panel.setAttribute("data-conn", "down");
      var delay = Math.min(15000, 500 * Math.pow(2, wsBackoff++)) * (0.75 + Math.random() / 2);
      wsTimer = setTimeout(connect, delay);
    };
  }
  function disconnect() {
    clearTimeout(wsTimer);
    if (ws) { var s = ws; ws = null; wsAlive = false; s.close(1000); }
  }
  function onHistory(d) {
    wsAlive = true; wsBackoff = 0;
    panel.setAttribute("data-conn", "up");
    if (statusEl.textContent === t("reconnecting")) statusEl.textContent = "";
    (d.messages || []).forEach(addMessage);
    if (d.state) applyState(d.state);
    if (screen !== "chat") return;
    // resend what was never acknowledged; the server dedupes by client id
    S.pending.forEach(function (p) {
      if (!p.error) { wsSend({ type: "message", client_id: p.client_id, text: p.text }); p.sent = Date.now(); }
    });
  }
  // A socket that looks open but acknowledges nothing (a dead network path) is dropped and dialled again,
  // which resends the pending messages.
  setInterval(function () {
    var stale = S.pending.some(function (p) { return !p.error && p.sent && Date.now() - p.sent > 10000; });
    if (stale && ws && wsAlive) ws.close(4000);
  }, 5000);
  function onAck(d) {
    var p = null;
    S.pending.forEach(function (x) { if (x.client_id === d.client_id) p = x; });
    if (!p) return;
    addMessage({ type: "message", seq: d.seq, client_id: d.client_id, sender: "visitor", text: p.text, agent: null,
      attachment: null, created_at: d.created_at });
  }
  function onError(d) {
    var p = null;
    S.pending.forEach(function (x) { if (x.client_id === d.client_id) p = x; });
    if (p) {
      p.error = t("notSent") + ": " + (d.message || "");
      save();
      var n = pendingNode(p.client_id);
      if (n) { n.className += " failed"; n.querySelector(".state").textContent = p.error; }
    } else statusEl.textContent = d.message || t("failed");
  }
  window.addEventListener("online", function () { if (!ws && S.token && screen === "chat") { wsBackoff = 0; connect(); } });
  // The browser knows the network is gone before the socket does: say so at once; messages typed meanwhile
  // wait as pending and go when the network is back ("online" above, or the fallback dial below).
  window.addEventListener("offline", function () {
    if (!ws || screen !== "chat") return;
    var dead = ws;
    ws = null; wsAlive = false;
    dead.onclose = null;
    dead.close();
    panel.setAttribute("data-conn", "down");
    statusEl.textContent = t("reconnecting");
    clearTimeout(wsTimer);
    wsTimer = setTimeout(connect, 15000);
  });

  // ---- start -------------------------------------------------------------------------------
  function mount() {
    document.body.appendChild(hostEl);
    if (S.token || S.open) {
      loadConfig().then(function () { if (S.open) setOpen(true, true); });
    }
  }
  if (document.body) mount(); else document.addEventListener("DOMContentLoaded", mount);
})();
