"""gunicorn's settings for the web process; gunicorn reads ./gunicorn.conf.py by itself.

Flags on the command line override these (docs/operations.md). Environment:
`GUNICORN_BIND` (127.0.0.1:8000), `GUNICORN_WORKERS` (4), `GUNICORN_TIMEOUT` (60 s).
"""

import gc
import os

wsgi_app = "sesconsole.wsgi"
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "4"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))


def post_worker_init(worker):
    # Everything loaded so far (Django, the apps, their modules) lives as long as the
    # worker: take it out of the garbage collector's view, and collect the young
    # generation less often: an ingest batch allocates container objects by the thousand,
    # and with Python's default threshold (700) a batch of 1,000 events ran many collections.
    # Measured with bench/ingest.py (docs/performance.md).
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)
