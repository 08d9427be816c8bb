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

// A filter with suggestions (`data-suggest` on an input with a datalist, see
// sesconsole/lib/widgets.py): the page holds only the first suggestions of an account with
// thousands of domains; as the user types, ask for those that start with the text.
(function () {
  "use strict";
  document.querySelectorAll("input[data-suggest]").forEach(function (input) {
    var list = document.getElementById(input.getAttribute("list"));
    var timer = null;
    var asked = null;
    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        var starting = input.value.trim().toLowerCase();
        if (starting === asked) { return; }
        asked = starting;
        fetch(input.dataset.suggest + "&starting=" + encodeURIComponent(starting), {
          headers: { Accept: "application/json" }, credentials: "same-origin"
        })
          .then(function (response) { return response.ok ? response.json() : null; })
          .then(function (body) {
            if (!body || asked !== starting) { return; } // a later answer is on its way
            list.replaceChildren.apply(list, body.domains.map(function (domain) {
              var option = document.createElement("option");
              option.value = domain;
              return option;
            }));
          })
          .catch(function () {}); // the suggestions already there stay
      }, 150);
    });
  });
})();
