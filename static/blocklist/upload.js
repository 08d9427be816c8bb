// The custom-block upload with a progress bar; without script the form posts as usual.
(function () {
  var form = document.getElementById('upload-form');
  form.addEventListener('submit', function (event) {
    event.preventDefault();
    var box = document.getElementById('upload-progress');
    var bar = document.getElementById('upload-bar');
    var status = document.getElementById('upload-status');
    box.hidden = false;
    status.textContent = 'Uploading…';
    var xhr = new XMLHttpRequest();
    xhr.open('POST', window.location.pathname);
    xhr.setRequestHeader('Accept', 'application/json');
    xhr.upload.onprogress = function (e) {
      if (e.lengthComputable) {
        bar.value = Math.round(e.loaded / e.total * 90);
        status.textContent = 'Uploading… ' + bar.value + '%';
      }
    };
    xhr.upload.onload = function () { bar.value = 90; status.textContent = 'Checking addresses…'; };
    xhr.onload = function () {
      var data;
      try { data = JSON.parse(xhr.responseText); } catch (e) { data = {message: 'The upload failed.'}; }
      if (xhr.status !== 200) { bar.value = 0; status.textContent = data.message; return; }
      bar.value = 100;
      status.textContent = 'Done: added ' + data.valid + ' of ' + data.total + '.';
      var report = document.getElementById('upload-report');
      ['total', 'valid', 'repeat', 'invalid', 'too_long'].forEach(function (k) {
        report.querySelector('[data-field="' + k + '"]').textContent = data[k];
      });
      var list = document.getElementById('upload-problems');
      list.textContent = '';
      data.problems.forEach(function (p) {
        var li = document.createElement('li');
        li.textContent = (p.line ? 'Line ' + p.line + ': ' : '') + p.value + ' — ' + p.message;
        list.appendChild(li);
      });
      if (!data.problems.length) { var li = document.createElement('li'); li.textContent = 'None.'; list.appendChild(li); }
      report.hidden = false;
    };
    xhr.onerror = function () { status.textContent = 'The upload failed: check your connection.'; };
    xhr.send(new FormData(form));
  });
})();
