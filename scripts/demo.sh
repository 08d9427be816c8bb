#!/usr/bin/env bash
# The demo, as `make demo` runs it: the embedded defaults (a SQLite file and a broker that
# needs no server, both under var/), demo data, a Celery worker with beat, and the console.
# PORT (default 8000) and SMTP_PORT (default 1025) move the console and the SMTP sink.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
# A public development key unless one is set: the settings refuse to start without any.
export SECRET_KEY="${SECRET_KEY:-insecure-development-key-never-use-in-production}"
# The demo's event-notification receiver listens on 127.0.0.1.
export WEBHOOKS_ALLOW_PRIVATE_NETWORKS=true
export PORT="${PORT:-8000}"
export SMTP_PORT="${SMTP_PORT:-1025}"
# The worker relays to the sink, the staff mail too (a surge of invalid-address verdicts);
# tracking links in sent mail, and the staff mail's link, point at the console.
export SENDING_RELAY_PORT="$SMTP_PORT"
export EMAIL_PORT="${EMAIL_PORT:-$SMTP_PORT}"
export SENDING_TRACKING_BASE_URL="${SENDING_TRACKING_BASE_URL:-http://127.0.0.1:$PORT}"

"$PY" manage.py migrate --noinput -v0
"$PY" manage.py collectstatic --noinput -v0
"$PY" manage.py setup_demo

pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; }
trap cleanup EXIT INT TERM

"$PY" manage.py smtp_sink --port "$SMTP_PORT" >var/sink.log 2>&1 &
pids+=($!)

"$PY" manage.py webhook_receiver --port 8090 >var/webhooks.log 2>&1 &
pids+=($!)

.venv/bin/celery -A sesconsole worker -B -Q celery,notifications -l warning --concurrency 2 \
  --logfile var/worker.log --pidfile= &
pids+=($!)

echo
echo "Serving the console on http://127.0.0.1:$PORT (Ctrl+C stops it; worker log in var/worker.log)"
echo "Sent mail goes to the SMTP sink on 127.0.0.1:$SMTP_PORT and is kept in var/sink/"
echo "Event notifications of acme go to 127.0.0.1:8090 (log in var/webhooks.log)"
"$PY" manage.py runserver "127.0.0.1:$PORT" --noreload
