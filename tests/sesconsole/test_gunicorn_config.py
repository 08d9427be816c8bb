"""The web process's settings (gunicorn.conf.py): gunicorn reads them from the project
directory, serves the console with them, and each worker takes its loaded code out of the
garbage collector's view."""

from __future__ import annotations

import gc
import http.client
import os
import runpy
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_a_worker_freezes_what_it_loaded_and_collects_less_often():
    config = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    assert config["wsgi_app"] == "sesconsole.wsgi"
    threshold = gc.get_threshold()
    try:
        config["post_worker_init"](None)
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold()[0] > threshold[0]
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_gunicorn_serves_the_console_with_the_project_config():
    port = _free_port()
    env = {**os.environ, "GUNICORN_BIND": f"127.0.0.1:{port}", "GUNICORN_WORKERS": "1"}
    gunicorn = Path(sys.executable).parent / "gunicorn"
    # No app or bind on the command line: both come from ./gunicorn.conf.py.
    proc = subprocess.Popen(
        [str(gunicorn)], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                conn.request("GET", "/login/")
                response = conn.getresponse()
                body = response.read()
                break
            except OSError:
                assert proc.poll() is None, proc.stdout.read().decode()
                assert time.monotonic() < deadline, "gunicorn did not answer"
                time.sleep(0.2)
        assert response.status == 200
        assert b"<form" in body
    finally:
        proc.terminate()
        proc.wait(timeout=30)
