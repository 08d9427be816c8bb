# ruff: noqa: RUF001  (the en dash is what the page writes for "no sending time")
"""The event tables of the counts pages: cells formatted in the view give the HTML the
template's filters gave (`date` in the account's zone, `truncatechars`, `{% url %}`)."""

from __future__ import annotations

import re

import pytest
import time_machine
from django.template import engines
from django.utils import timezone

from delivery.ingest import ingest_events
from tests.events import make_event
from tests.scenarios import engagement_events

pytestmark = pytest.mark.django_db

NOW = "2026-11-28T13:00:00Z"
RANGE = {"start": "2026-11-26", "end": "2026-11-28"}

# The rows as the template wrote them before the view formatted the cells: the oracle.
PREVIOUS_ROWS = """{% for e in page.object_list %}
    <tr>
      <td>{{ e.timestamp|date:"Y-m-d H:i:s" }}</td>
      <td>{{ e.get_type_display }}{% if e.is_machine %} <span class="badge machine" title="A privacy proxy or link scanner, not a reader">machine</span>{% endif %}{% if e.bounce_class %} <span class="badge bounced">{{ e.get_bounce_class_display }}</span>{% endif %}</td>
      <td><a href="{% url 'delivery:message_detail' e.message.message_id %}">{{ e.message.recipient|default:"?" }}</a></td>
      <td>{{ e.message.from_address }}</td>
      <td>{{ e.message.subject }}</td>
      <td>{{ e.message.sent_at|date:"Y-m-d H:i"|default:"–" }}</td>
      <td>{% if e.url %}<span title="{{ e.url }}">{{ e.url|truncatechars:50 }}</span><br>{% endif %}{% if e.user_agent %}<span class="muted">{{ e.user_agent|truncatechars:60 }}</span>{% endif %}{% if e.response_text %}{{ e.response_text|truncatechars:80 }}{% endif %}{% if e.offer %}{% with offer=e.offer %}{% include "blocklist/_offer.html" %}{% endwith %}{% endif %}</td>
    </tr>
  {% endfor %}"""

ODD_ID = "m 8/é#?<x>&y"


def _odd_events() -> list[dict]:
    """Values the filters had to escape, quote, cut or replace."""
    day = "2026-11-27"
    long_url = "https://example.com/" + "a" * 48 + "?q=<&>"
    return [
        make_event(
            "request",
            ODD_ID,
            timestamp=f"{day}T18:29:59Z",  # 23:59:59 in Kolkata; the next day's minute there
            to="zoë@example.org",
            subject='<b>"R&D" – ünïcode</b>',
            **{"from": "Ann <ann@mail.example.com>"},
        ),
        make_event("clicked", ODD_ID, timestamp=f"{day}T18:30:00Z", url=long_url),
        make_event(
            "clicked", ODD_ID, timestamp=f"{day}T18:31:00Z", url="https://e.com/" + "b" * 36
        ),
        make_event(
            "opened",
            ODD_ID,
            timestamp=f"{day}T18:32:00Z",
            user_agent="Mozilla/5.0 " + "e\u0301" * 55,  # combining accents: 67 characters shown
        ),
        make_event("opened", "m9", timestamp=f"{day}T20:00:00Z", user_agent="x" * 61),  # no request
        make_event(
            "bounced",
            ODD_ID,
            timestamp=f"{day}T19:00:00Z",
            bounce_class="blocked",
            smtp={"code": 554, "enhanced": "5.7.1", "text": "554 5.7.1 <refused> " + "z" * 70},
        ),
    ]


def _cells(html: str) -> str:
    body = html.split('<table class="data" id="events-table"', 1)[1]
    body = body.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", body).strip()


@pytest.mark.parametrize(
    "path, query",
    [
        ("/open-click/", {}),
        ("/open-click/", {"sort": "to"}),
        ("/open-click/", {"sort": "sent"}),
        ("/bounced/", {}),
        ("/spam-reports/", {}),
        ("/unsubscriptions/", {}),
    ],
)
@time_machine.travel(NOW, tick=False)
def test_event_rows_render_as_the_template_filters_did(alice_client, account, path, query):
    account.time_zone = "Asia/Kolkata"
    account.save()
    ingest_events(account, [*engagement_events(), *_odd_events()])
    response = alice_client.get(path, {**RANGE, **query})
    assert response.status_code == 200
    page = response.context["page"]
    assert page.object_list
    with timezone.override(account.time_zone):
        previous = (
            engines["django"]
            .from_string(PREVIOUS_ROWS)
            .render({"page": page}, request=response.wsgi_request)
        )
    assert _cells(response.content.decode()) == _cells(
        f'<table class="data" id="events-table"><tbody>{previous}</tbody>'
    )


@time_machine.travel(NOW, tick=False)
def test_event_rows_keep_quoting_cutting_and_local_time(alice_client, account):
    account.time_zone = "Asia/Kolkata"
    account.save()
    ingest_events(account, [*engagement_events(), *_odd_events()])
    html = alice_client.get("/open-click/", RANGE).content.decode()
    assert 'href="/messages/id/m%208/%C3%A9%23%3F%3Cx%3E&amp;y/"' in html
    assert "<td>2026-11-28 00:00:00</td>" in html  # 18:30 UTC in Kolkata
    assert "<td>2026-11-27 23:59</td>" in html  # sent, minutes only
    assert "&lt;b&gt;&quot;R&amp;D&quot; – ünïcode&lt;/b&gt;" in html
    assert "a…</span>" in html  # the long URL cut to 50 characters
    assert "<td>–</td>" in html  # no request: no sending time
    assert ">?</a>" in html  # nor recipient
    assert "machine</span>" in html


@time_machine.travel(NOW, tick=False)
def test_a_message_id_with_a_newline_is_listed_and_opens(alice_client, account):
    """Ingestion accepts any message id; the pages that link to its message rendered a 500
    for one with a newline (Django's `path` converter stops at one)."""
    odd = "line\nbreak"
    ingest_events(
        account,
        [
            make_event("request", odd, to="nl@example.org", timestamp="2026-11-27T10:00:00Z"),
            make_event(
                "bounced",
                odd,
                timestamp="2026-11-27T10:00:05Z",
                bounce_class="blocked",
                smtp={"code": 554, "enhanced": "5.7.1", "text": "554 5.7.1 refused"},
            ),
        ],
    )
    link = "/messages/id/line%0Abreak/"
    for page in ["/bounced/", "/messages/"]:
        response = alice_client.get(page, RANGE)
        assert response.status_code == 200, page
        assert f'href="{link}"' in response.content.decode(), page
    detail = alice_client.get(link)
    assert detail.status_code == 200 and "nl@example.org" in detail.content.decode()
