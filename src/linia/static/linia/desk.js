// Keyboard shortcuts and small behaviours for the agent desk (no framework; htmx does the requests).
(function () {
  "use strict";

  function typing(el) {
    return el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName));
  }

  function rows() {
    return Array.prototype.slice.call(document.querySelectorAll("[data-row-link]"));
  }

  function move(delta) {
    var list = rows();
    if (!list.length) return;
    var i = list.findIndex(function (r) { return r.classList.contains("current"); });
    var next = Math.max(0, Math.min(list.length - 1, i < 0 ? 0 : i + delta));
    if (i >= 0) list[i].classList.remove("current");
    list[next].classList.add("current");
    list[next].scrollIntoView({ block: "nearest" });
  }

  document.addEventListener("keydown", function (ev) {
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
    if (typing(ev.target)) {
      if (ev.key === "Escape") ev.target.blur();
      // Enter in a store search picks the first hit instead of submitting the whole form.
      if (ev.key === "Enter" && ev.target.closest("[data-store-picker]") && ev.target.type === "search") {
        ev.preventDefault();
        var first = ev.target.closest("[data-store-picker]").querySelector("[data-pick-store]");
        if (first) first.click();
      }
      return;
    }
    var search = document.getElementById("global-search");
    if (ev.key === "/" && search) { ev.preventDefault(); search.focus(); search.select(); }
    else if (ev.key === "j") { move(1); }
    else if (ev.key === "k") { move(-1); }
    else if (ev.key === "Enter") {
      var cur = document.querySelector("[data-row-link].current");
      if (cur) { window.location.href = cur.getAttribute("data-row-link"); }
    }
    else if (ev.key === "?") {
      var help = document.getElementById("shortcuts");
      if (help && help.showModal) help.showModal();
    }
    else if (ev.key === "x") {
      var row = document.querySelector("[data-row-link].current input[type=checkbox]");
      if (row) row.checked = !row.checked;
    }
    else if (ev.key === "r") {
      var reply = document.querySelector(".reply textarea");
      if (reply) { ev.preventDefault(); reply.focus(); }
    }
    else if (ev.key === "n") {
      var link = document.getElementById("nav-new-ticket");
      if (link) { window.location.href = link.href; }
    }
  });

  // Clicking anywhere in a list row opens it (the reference link stays a real link for middle-click).
  document.addEventListener("click", function (ev) {
    var row = ev.target.closest && ev.target.closest("[data-row-link]");
    if (row && !ev.target.closest("a, button, input, label")) {
      window.location.href = row.getAttribute("data-row-link");
    }
  });

  // Public reply / internal note toggle colours the box so a note is never sent by mistake.
  document.addEventListener("change", function (ev) {
    if (ev.target.name === "kind") {
      var box = ev.target.closest(".reply");
      if (box) box.classList.toggle("is-note", ev.target.value === "note");
    }
  });

  // Store picker: a result button fills the hidden id and the visible label.
  document.addEventListener("click", function (ev) {
    var btn = ev.target.closest && ev.target.closest("[data-pick-store]");
    if (!btn) return;
    ev.preventDefault();
    var picker = btn.closest("[data-store-picker]");
    picker.querySelector("input[type=hidden]").value = btn.getAttribute("data-pick-store");
    picker.querySelector("[data-store-label]").textContent = btn.getAttribute("data-label");
    picker.querySelector(".picker-results").innerHTML = "";
    picker.querySelector("input[type=search]").value = "";
  });
  document.addEventListener("click", function (ev) {
    var btn = ev.target.closest && ev.target.closest("[data-clear-store]");
    if (!btn) return;
    ev.preventDefault();
    var picker = btn.closest("[data-store-picker]");
    picker.querySelector("input[type=hidden]").value = "";
    picker.querySelector("[data-store-label]").textContent = btn.getAttribute("data-none");
  });
})();

// Known-customer lookup on the new-ticket form: "Use" copies the customer's name, phone and email.
document.addEventListener("click", function (ev) {
  var btn = ev.target.closest && ev.target.closest("[data-fill-contact]");
  if (!btn) return;
  ev.preventDefault();
  var box = btn.closest("[data-contact-fields]");
  [["name", "contact_name"], ["phone", "contact_phone"], ["email", "contact_email"]].forEach(function (pair) {
    var value = btn.getAttribute("data-" + pair[0]);
    var input = box.querySelector("[name=" + pair[1] + "]");
    if (input && value) input.value = value;
  });
});

// Bulk actions: the header box ticks every row of the page.
document.addEventListener("change", function (ev) {
  if (!ev.target.hasAttribute || !ev.target.hasAttribute("data-tick-all")) return;
  document.querySelectorAll("input[name=ids][form=bulk]").forEach(function (box) { box.checked = ev.target.checked; });
});
