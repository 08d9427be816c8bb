#!/usr/bin/env bash
# The suite, as `make test` runs it: lint, migration and system checks, then pytest.
# PostgreSQL when DATABASE_URL is set or a server answers on 127.0.0.1:5432; SQLite otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python

if [ -z "${DATABASE_URL:-}" ] && "$PY" -c "import socket; socket.create_connection(('127.0.0.1', 5432), 1)" 2>/dev/null; then
  export DATABASE_URL="postgres://postgres@127.0.0.1:5432/sesconsole"
fi
if [ -n "${DATABASE_URL:-}" ]; then
  "$PY" - <<'PY'
import os
from urllib.parse import urlsplit
u = urlsplit(os.environ["DATABASE_URL"])
print(f"== Tests run against {u.scheme} at {u.hostname}:{u.port or ''}{u.path} (DATABASE_URL)")
PY
else
  echo "== Tests run against SQLite: no PostgreSQL answered on 127.0.0.1:5432 and DATABASE_URL is unset"
fi

echo "== ruff"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
echo "== Django checks"
"$PY" manage.py check --fail-level WARNING
"$PY" manage.py makemigrations --check --dry-run
echo "== pytest"
exec .venv/bin/pytest "$@"
