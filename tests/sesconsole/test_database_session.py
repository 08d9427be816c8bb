"""How the console's PostgreSQL sessions are set up (sesconsole.settings, DB_JIT)."""

from __future__ import annotations

import pytest
from django.db import connection

from tests.sesconsole.test_safe_settings import run

pytestmark = pytest.mark.django_db


def test_statements_are_not_jit_compiled():
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone() == ("off",)


def _session(**env: str) -> list[str]:
    code = (
        "import django; django.setup(); from django.db import connection; "
        "c = connection.cursor(); c.execute('SHOW jit'); a = c.fetchone()[0]; "
        "c.execute('SHOW work_mem'); print(a, c.fetchone()[0])"
    )
    result = run(["-c", code], DEBUG="true", **env)
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


def test_db_jit_on_leaves_postgresql_to_choose(settings):
    url = _database_url(settings)
    assert _session(DATABASE_URL=url, DB_JIT="on")[0] == "on"


def test_options_in_the_database_url_are_kept_beside_it(settings):
    url = _database_url(settings) + "?options=-c%20work_mem%3D8MB"
    assert _session(DATABASE_URL=url, DB_JIT="") == ["off", "8MB"]


def _database_url(settings) -> str:
    db = settings.DATABASES["default"]
    return f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
