// Keyboard and screen-reader help for the portal: after a failed submit, focus goes to the error summary,
// so the next Tab reaches the first marked field.
document.addEventListener("DOMContentLoaded", () => {
  const alert = document.querySelector("[data-focus-on-load]");
  if (alert) alert.focus();
});
