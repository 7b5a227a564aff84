/* Linia web form page: focus the error summary, filter the store list, tell an embedding page our height. */
(function () {
  "use strict";
  var body = document.body;
  var key = body.getAttribute("data-form-key") || "";

  var summary = document.getElementById("lf-summary");
  if (summary) { summary.focus(); }

  // Store picker: a search box that narrows the <select> (works as a plain select without JS).
  Array.prototype.forEach.call(document.querySelectorAll("[data-store-filter]"), function (box) {
    var select = document.getElementById(box.getAttribute("data-store-filter"));
    if (!select) { return; }
    box.hidden = false;
    box.addEventListener("input", function () {
      var words = box.value.toLowerCase().split(/\s+/).filter(Boolean);
      Array.prototype.forEach.call(select.querySelectorAll("optgroup"), function (group) {
        var shown = 0;
        Array.prototype.forEach.call(group.querySelectorAll("option"), function (opt) {
          var text = (group.label + " " + opt.textContent).toLowerCase();
          var ok = words.every(function (w) { return text.indexOf(w) !== -1; });
          opt.hidden = !ok; opt.disabled = !ok && !opt.selected;
          if (ok) { shown += 1; }
        });
        group.hidden = shown === 0;
      });
    });
  });

  if (window.parent === window) { return; }
  function post(message) {
    message.key = key;
    try { window.parent.postMessage(message, "*"); } catch (e) { /* the host went away */ }
  }
  var last = 0;
  function report() {
    var height = Math.ceil(document.documentElement.scrollHeight);
    if (height !== last) { last = height; post({ type: "linia-form:height", height: height }); }
  }
  report();
  window.addEventListener("load", report);
  window.addEventListener("resize", report);
  if (window.ResizeObserver) { new ResizeObserver(report).observe(document.body); }
  var reference = body.getAttribute("data-reference");
  if (reference) { post({ type: "linia-form:submitted", reference: reference }); }
})();
