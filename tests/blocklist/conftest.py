"""Helpers for blocklist tests: blocks made through the real ingestion pipeline."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from delivery.ingest import ingest_events
from tests.events import make_event

_n = itertools.count(1)


def _two_days_ago() -> str:
    """The default time of these events. Not a fixed date: an invalid-address block is released
    180 days after its bounce, so those blocks would be gone once the tests ran that much later.
    Not today: a test's own mail of today is then all there is of today."""
    return (timezone.now() - timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _sent(fields: dict) -> str:
    """When the mail was sent: two days ago, or when the event came if that was earlier."""
    default = _two_days_ago()
    given = datetime.fromisoformat(fields["timestamp"])
    return fields["timestamp"] if given < datetime.fromisoformat(default) else default


def bounce(account, to: str, bounce_class: str = "invalid_address", **fields):
    """Ingest a request and a bounce for `to`, two days ago unless `timestamp` says when;
    returns the ingest result of the bounce."""
    mid = f"m-{next(_n)}"
    fields.setdefault("timestamp", _two_days_ago())
    ingest_events(account, [make_event("request", mid, to=to, timestamp=_sent(fields))])
    smtp = fields.pop("smtp", {"code": 550, "enhanced": "5.1.1", "text": "550 5.1.1 user unknown"})
    return ingest_events(
        account,
        [make_event("bounced", mid, to=to, smtp=smtp, bounce_class=bounce_class, **fields)],
    )


def recipient_event(account, to: str, type: str, **fields):
    mid = f"m-{next(_n)}"
    fields.setdefault("timestamp", _two_days_ago())
    ingest_events(account, [make_event("request", mid, to=to, timestamp=_sent(fields))])
    return ingest_events(account, [make_event(type, mid, **fields)])


@pytest.fixture
def actor(alice):
    from blocklist.changes import Actor

    return Actor(alice, alice.username)


def answer_yes(client, asked, **chosen):
    """Submit the confirmation page `asked` as a person would: its form's own fields (and
    what they chose in it), to the URL it was shown at (which keeps the list's filters)."""
    from html.parser import HTMLParser

    class Form(HTMLParser):
        fields: list[tuple[str, str]] = []
        inside = False

        def handle_starttag(self, tag, attrs):
            attrs = dict(attrs)
            if tag == "form" and attrs.get("method") == "post":
                self.inside, self.fields = True, []
            elif tag == "input" and self.inside and attrs.get("type") == "hidden":
                self.fields.append((attrs["name"], attrs.get("value", "")))

        def handle_endtag(self, tag):
            self.inside = self.inside and tag != "form"

    form = Form()
    form.feed(asked.content.decode())
    data: dict[str, list[str]] = {}
    for name, value in form.fields:
        if name != "csrfmiddlewaretoken":
            data.setdefault(name, []).append(value)
    data.update(chosen)
    request = asked.wsgi_request
    return client.post(request.get_full_path(), data, follow=True)
