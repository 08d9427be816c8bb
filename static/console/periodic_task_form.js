// The periodic task form in the admin (django-celery-beat): the chosen crontab's schedule in
// words under the field, in place of the read-only translation row.
(function () {
  var data = document.getElementById('readable-crontabs');
  var select = document.getElementById('id_crontab');
  if (!data || !select) return;
  var readable = JSON.parse(data.textContent);
  var help = document.querySelector('.field-crontab .help');
  var original = help ? help.textContent : '';
  var row = document.querySelector('.field-crontab_translation');
  if (row) row.style.display = 'none';
  select.addEventListener('change', function () {
    if (help) help.textContent = original + ' Translation: ' + (readable[select.value] || '');
  });
})();
