/* Linia web form page: focus the error summary, filter the store list, tell an embedding page our height. */
(function () {
  "use strict";
  var body = document.body;
  var key = body.getAttribute("data-form-key") || "";

  var report = function () { /* replaced below when the page is in an iframe */ };
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

  // A large chain's picker: the search box asks the server (typo-tolerant) and refills the list.
  Array.prototype.forEach.call(document.querySelectorAll("[data-store-search]"), function (box) {
    var select = document.getElementById(box.getAttribute("data-store-search"));
    if (!select || !window.fetch) { return; }
    var timer = null;
    var asked = "";
    function search() {
      var q = box.value.trim();
      if (q === asked || q.length < 2) { return; }
      asked = q;
      var url = box.getAttribute("data-url") + "?q=" + encodeURIComponent(q) +
        "&lang=" + encodeURIComponent(document.documentElement.lang || "");
      fetch(url, { credentials: "omit" }).then(function (r) { return r.ok ? r.json() : null; }).then(function (data) {
        if (!data || asked !== q) { return; }
        var chosen = select.value;
        var first = select.options[0];
        select.textContent = "";
        select.appendChild(first);
        var groups = {};
        data.stores.forEach(function (s) {
          if (!groups[s.city]) {
            groups[s.city] = document.createElement("optgroup");
            groups[s.city].label = s.city;
            select.appendChild(groups[s.city]);
          }
          var opt = document.createElement("option");
          opt.value = s.code;
          opt.textContent = s.name + (s.address ? ", " + s.address : "") + " · " + s.today;
          opt.selected = s.code === chosen;
          groups[s.city].appendChild(opt);
        });
        first.textContent = (select.getAttribute("data-found") || "%(n)s").replace("%(n)s", String(data.stores.length));
        report();
      }).catch(function () { /* the Find button still works */ });
    }
    box.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(search, 250); });
    box.addEventListener("keydown", function (event) {
      if (event.key === "Enter") { event.preventDefault(); clearTimeout(timer); asked = ""; search(); }
    });
  });

  // The chosen store's hours for the next days (server-rendered after a post; fetched on change).
  Array.prototype.forEach.call(document.querySelectorAll("[data-store-hours]"), function (panel) {
    var select = document.getElementById(panel.getAttribute("data-store-hours"));
    if (!select || !window.fetch) { return; }
    select.addEventListener("change", function () {
      panel.textContent = "";
      if (!select.value) { return; }
      var url = panel.getAttribute("data-url") + "?code=" + encodeURIComponent(select.value) +
        "&lang=" + encodeURIComponent(document.documentElement.lang || "");
      fetch(url, { credentials: "omit" }).then(function (r) { return r.ok ? r.json() : null; }).then(function (data) {
        if (!data || !data.store || select.value !== data.store.code) { return; }
        var heading = document.createElement("p");
        heading.className = "help";
        heading.textContent = panel.getAttribute("data-heading").replace("%(zone)s", data.store.time_zone);
        var list = document.createElement("ul");
        data.store.days.forEach(function (d) {
          var item = document.createElement("li");
          var label = document.createElement("span");
          label.textContent = d.day;
          item.appendChild(label);
          item.appendChild(document.createTextNode(" " + d.hours));
          list.appendChild(item);
        });
        panel.appendChild(heading);
        panel.appendChild(list);
        report();
      }).catch(function () { /* the list of stores still works */ });
    });
  });

  if (window.parent === window) { return; }
  function post(message) {
    message.key = key;
    try { window.parent.postMessage(message, "*"); } catch (e) { /* the host went away */ }
  }
  var last = 0;
  report = function () {
    var height = Math.ceil(document.body.getBoundingClientRect().height);  // not the viewport: it can shrink
    if (height !== last) { last = height; post({ type: "linia-form:height", height: height }); }
  };
  report();
  window.addEventListener("load", report);
  window.addEventListener("resize", report);
  if (window.ResizeObserver) { new ResizeObserver(report).observe(document.body); }
  var reference = body.getAttribute("data-reference");
  if (reference) { post({ type: "linia-form:submitted", reference: reference }); }
})();
