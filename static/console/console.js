// Behaviour every console page shares, as data attributes (the Content-Security-Policy
// allows no inline script): `data-autosubmit` on a select submits its form on change;
// `data-confirm` on a form or its submit button asks first ("{n}" in the message becomes
// the number of rows ticked for a `data-bulk` form).
(function () {
  document.querySelectorAll('select[data-autosubmit]').forEach(function (select) {
    select.addEventListener('change', function () { select.form.submit(); });
  });
  document.addEventListener('submit', function (event) {
    var form = event.target;
    var message = (event.submitter && event.submitter.dataset.confirm) || form.dataset.confirm;
    if (!message) return;
    if (form.dataset.bulk !== undefined) {
      var selector = 'input[type=checkbox][form="' + form.id + '"][data-row]';
      var n = Array.from(document.querySelectorAll(selector)).filter(function (b) { return b.checked; }).length;
      message = message.replace('{n}', n);
    }
    if (!window.confirm(message)) event.preventDefault();
  });
})();

// The menu button of narrow screens: shows and hides the navigation and account links.
// Without script the links are always shown (the button and the collapse need both).
(function () {
  "use strict";
  var toggle = document.querySelector(".nav-toggle");
  if (!toggle) { return; }
  function setOpen(open) {
    toggle.setAttribute("aria-expanded", open ? "true" : "false");
    document.body.classList.toggle("nav-open", open);
  }
  toggle.addEventListener("click", function () {
    setOpen(toggle.getAttribute("aria-expanded") !== "true");
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && toggle.getAttribute("aria-expanded") === "true") {
      setOpen(false);
      toggle.focus();
    }
  });
})();
