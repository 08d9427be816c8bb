"""Every form of every console page, filled with hostile values: never a 500.

The pages are found by the resolver (as the tenant matrix finds them) and each one's forms
are read from its HTML, so a new form is covered without touching this file. Each form is
posted with every field set to one hostile value at a time, and file fields given junk.
"""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urljoin

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.urls import reverse

from tests.test_tenant_matrix import tenants, urls  # noqa: F401 (the fixture)

pytestmark = pytest.mark.django_db

HOSTILE = [
    "\x00",
    "a\x00b@example.com",
    "",
    " ",
    "x" * 20_000,
    "9999-12-31",
    "0001-01-01",
    "-99999999999999999999",
    "99999999999999999999",
    "1e400",
    "NaN",
    "<script>alert(1)</script>",
    "%00",
    "\u202e\ufeff",
    "=cmd|' /C calc'!A0",
]
JUNK_FILES = [
    b"\x00\xff\xfe" * 100,
    b"address\n" + b"a\x00@b.com\n" * 3,
    "é@ü.com\n".encode("utf-16"),
]


class _Forms(HTMLParser):
    """The POST forms of a page: (action, [field names], [file field names])."""

    def __init__(self):
        super().__init__()
        self.forms: list[tuple[str, list[str], list[str]]] = []
        self._current: tuple[str, list[str], list[str]] | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and (a.get("method") or "get").lower() == "post":
            self._current = (a.get("action") or "", [], [])
            self.forms.append(self._current)
        elif tag in ("input", "select", "textarea") and self._current and a.get("name"):
            if a.get("type") == "file":
                self._current[2].append(a["name"])
            elif a["name"] != "csrfmiddlewaretoken":
                self._current[1].append(a["name"])

    def handle_endtag(self, tag):
        if tag == "form":
            self._current = None


def _forms(client, url: str) -> list[tuple[str, list[str], list[str]]]:
    response = client.get(url)
    if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
        return []
    parser = _Forms()
    parser.feed(response.content.decode())
    return [(urljoin(url, action or url), names, files) for action, names, files in parser.forms]


def test_no_console_form_answers_hostile_input_with_a_500(client, tenants):  # noqa: F811
    _, b = tenants
    client.force_login(b.user)  # its own pages and ids: the forms go as deep as they can
    client.raise_request_exception = False
    failures = []
    skip = {reverse("logout"), reverse("login")}
    posted = 0
    seen_forms = set()
    for url, _ in urls(b, "/"):
        if url in skip or url.startswith("/admin/"):
            continue
        for action, names, files in _forms(client, url):
            if action in skip or (action, tuple(names), tuple(files)) in seen_forms:
                continue
            seen_forms.add((action, tuple(names), tuple(files)))
            for value in HOSTILE:
                data = {name: value for name in names}
                for n, name in enumerate(files):
                    junk = JUNK_FILES[n % len(JUNK_FILES)]
                    data[name] = SimpleUploadedFile("junk.csv", junk, "text/csv")
                with transaction.atomic():  # a failure must not hide the next ones
                    response = client.post(action, data)
                    transaction.set_rollback(True)
                posted += 1
                if response.status_code >= 500:
                    failures.append((action, value[:20]))
    assert not failures, "\n".join(map(repr, failures))
    assert len(seen_forms) >= 10 and posted >= 150, (len(seen_forms), posted)
