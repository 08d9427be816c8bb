"""`?format=csv` (and `Accept: text/csv`) on the API: the list's CSV where a list offers one,
a 404 or 406 elsewhere, never a 500."""

from __future__ import annotations

import pytest
from django.utils import timezone

from blocklist.models import Block
from delivery.ingest import ingest_events

pytestmark = pytest.mark.django_db

DAY = timezone.now().date().isoformat()
LISTS = [
    f"/api/v1/messages/?start={DAY}&end={DAY}",
    f"/api/v1/event-lists/?start={DAY}&end={DAY}&type=request",
    "/api/v1/blocklist/invalid/?",
    "/api/v1/blocklist/rejects/?",
    "/api/v1/blocklist/custom/?",
    "/api/v1/blocklist/whitelist/?",
]


@pytest.fixture
def mail(account):
    now = timezone.now()
    ingest_events(
        account,
        [
            {
                "id": "e1",
                "type": "request",
                "timestamp": now.isoformat(),
                "message_id": "m1",
                "from": "news@acme.example",
                "to": "ann@example.org",
            }
        ],
    )
    Block.objects.create(
        account=account, kind=Block.Kind.CUSTOM, address="bob@example.org", blocked_at=now
    )


@pytest.mark.parametrize("url", LISTS)
def test_a_list_answers_format_csv_with_its_export(api_client, mail, url):
    path, _, query = url.partition("?")
    response = api_client.get(f"{url}&format=csv")
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"].startswith("text/csv")
    export = api_client.get(f"{path}export/?{query}")
    assert b"".join(response.streaming_content) == b"".join(export.streaming_content)


@pytest.mark.parametrize(
    ("method", "url", "body"),
    [
        ("get", "/api/v1/messages/m1/", None),
        ("get", "/api/v1/stats/", None),
        ("post", "/api/v1/blocklist/check/", {"addresses": ["bob@example.org"]}),
        ("post", "/api/v1/blocklist/custom/", {"addresses": ["cy@example.org"]}),
        ("post", "/api/v1/blocklist/invalid/remove/", {"addresses": ["bob@example.org"]}),
        ("post", "/api/v1/events/", []),
    ],
)
@pytest.mark.parametrize("how", ["format", "accept"])
def test_csv_asked_of_anything_else_is_never_a_500(api_client, mail, method, url, body, how):
    kwargs = {"format": "json"} if body is not None else {}
    if how == "format":
        url = f"{url}?format=csv"
    else:
        kwargs["HTTP_ACCEPT"] = "text/csv"
    response = getattr(api_client, method)(url, body, **kwargs)
    assert response.status_code < 500, (response.status_code, response.content[:300])
