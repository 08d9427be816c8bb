// Bulk selection for the blocklist pages (works without it, too: every form still
// submits; only the counts and the select-all box need script).
(function () {
  function boxes(form) {
    return Array.from(document.querySelectorAll('input[type=checkbox][form="' + form.id + '"][data-row]'));
  }
  document.querySelectorAll('form[data-bulk]').forEach(function (form) {
    var all = document.querySelector('input[data-select-all="' + form.id + '"]');
    var count = form.querySelector('[data-count]');
    var buttons = form.querySelectorAll('button[type=submit]');
    function update() {
      var n = boxes(form).filter(function (b) { return b.checked; }).length;
      if (count) count.textContent = n + ' selected';
      buttons.forEach(function (b) { b.disabled = n === 0; });
      if (all) all.checked = n > 0 && n === boxes(form).length;
    }
    if (all) all.addEventListener('change', function () {
      boxes(form).forEach(function (b) { b.checked = all.checked; });
      update();
    });
    boxes(form).forEach(function (b) { b.addEventListener('change', update); });
    update();
    // Back to this page, the browser gives the boxes back as they were ticked, without a
    // change event (restored form state after the script ran, or the back-forward cache).
    window.addEventListener('pageshow', update);
  });
})();
