/* Linia web form embed: <script src="https://HOST/static/linia/form.js" data-form="KEY" data-lang="ru" async></script>
   Puts an iframe with the form where the tag is and keeps its height equal to the form's. */
(function () {
  "use strict";
  var frames = {};
  function mount(tag) {
    if (tag.getAttribute("data-linia-mounted")) { return; }
    tag.setAttribute("data-linia-mounted", "1");
    var key = tag.getAttribute("data-form");
    if (!key) { return; }
    var base = new URL(tag.src, document.baseURI);
    var url = new URL("/forms/" + encodeURIComponent(key) + "/", base.origin);
    url.searchParams.set("embed", "1");
    var lang = tag.getAttribute("data-lang") || (navigator.language || "").slice(0, 2);
    if (lang) { url.searchParams.set("lang", lang); }
    var frame = document.createElement("iframe");
    frame.src = url.toString();
    frame.className = "linia-form-frame";
    frame.title = tag.getAttribute("data-title") || "Form";
    frame.setAttribute("loading", "lazy");
    frame.style.cssText = "width:100%;border:0;display:block;min-height:320px;height:640px;";
    tag.parentNode.insertBefore(frame, tag.nextSibling);
    frames[key] = frames[key] || [];
    frames[key].push({ frame: frame, origin: base.origin });
  }
  window.addEventListener("message", function (event) {
    var data = event.data;
    if (!data || typeof data !== "object" || typeof data.type !== "string" || !frames[data.key]) { return; }
    frames[data.key].forEach(function (entry) {
      if (entry.frame.contentWindow !== event.source || entry.origin !== event.origin) { return; }
      if (data.type === "linia-form:height" && typeof data.height === "number") {
        entry.frame.style.height = Math.max(120, Math.min(data.height, 20000)) + "px";
      } else if (data.type === "linia-form:submitted") {
        entry.frame.scrollIntoView({ block: "nearest" });
        entry.frame.dispatchEvent(new CustomEvent("linia-form:submitted", { bubbles: true, detail: data }));
      }
    });
  });
  function scan() {
    Array.prototype.forEach.call(document.querySelectorAll("script[data-form]"), mount);
  }
  if (document.currentScript) { mount(document.currentScript); }
  scan();
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", scan); }
})();
