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
