#!/usr/bin/env bash
# The suite, as `make test` runs it: lint, migration and system checks, then pytest.
# PostgreSQL when DATABASE_URL is set or a server answers on 127.0.0.1:5432; SQLite otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
# A public development key unless one is set: the settings refuse to start without any.
export SECRET_KEY="${SECRET_KEY:-insecure-development-key-never-use-in-production}"

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
  # Create the database if it is missing (pytest makes its own test_ copy; the migration
  # check reads this one).
  "$PY" - <<'PY'
import os
from urllib.parse import urlsplit
import psycopg
u = urlsplit(os.environ["DATABASE_URL"])
if u.scheme.startswith("postgres"):
    name = u.path.lstrip("/")
    admin = os.environ["DATABASE_URL"].rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
            print(f"== Created database {name}")
PY
else
  echo "== Tests run against SQLite: no PostgreSQL answered on 127.0.0.1:5432 and DATABASE_URL is unset"
fi

echo "== ruff"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
echo "== import contracts"
.venv/bin/lint-imports --no-logo --no-cache
echo "== Django checks"
"$PY" manage.py check --fail-level WARNING
"$PY" manage.py makemigrations --check --dry-run
echo "== pytest"
exec .venv/bin/pytest "$@"
