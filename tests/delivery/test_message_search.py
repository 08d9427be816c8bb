"""Email status search by message id, subject words and part of an address: the same
MessageFilter drives the page, its CSV download and the API, so each gives the same rows."""

from __future__ import annotations

import csv
import io

import pytest
from django.db import connection

from delivery.models import Message

pytestmark = pytest.mark.django_db

RANGE = {"start": "2026-11-27", "end": "2026-11-28"}

SEARCHES = [
    # one hit and one miss per filter
    ({"message_id": "m3"}, ["m3"]),
    ({"message_id": "m3x"}, []),
    ({"subject": "offer 5"}, ["m5"]),
    ({"subject": "OFFER   2"}, ["m2"]),
    ({"subject": "invoice"}, []),
    ({"recipient": "ann@"}, ["m1"]),
    ({"recipient": "fa"}, ["m6"]),
    ({"recipient": "zed@"}, []),
    ({"recipient": "@yahoo.com"}, ["m6", "m3"]),
    ({"recipient": "@YAHOO.com"}, ["m6", "m3"]),
    ({"recipient": "@hotmail.com"}, []),
    ({"recipient": "ann@gmail.com"}, ["m1"]),
    ({"recipient": "an@gmail.com"}, []),  # a whole address matches only itself
    ({"recipient": "100%_@"}, []),  # wildcards are taken literally
    ({"recipient": "@gmail.com", "subject": "offer 4"}, ["m4"]),
]


def _csv(response) -> list[dict]:
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(body)))


@pytest.mark.parametrize(("params", "ids"), SEARCHES)
def test_the_api_searches(api_client, scenario, params, ids):
    body = api_client.get("/api/v1/messages/", {**RANGE, **params}).json()
    assert [m["message_id"] for m in body["results"]] == ids
    rows = _csv(api_client.get("/api/v1/messages/export/", {**RANGE, **params}))
    assert sorted(r["message_id"] for r in rows) == sorted(ids)


@pytest.mark.parametrize(("params", "ids"), SEARCHES)
def test_the_page_and_its_download_search_alike(alice_client, scenario, params, ids):
    page = alice_client.get("/messages/", {**RANGE, **params})
    assert page.status_code == 200
    assert [m.message_id for m in page.context["page"].object_list] == ids
    rows = _csv(alice_client.get("/messages/", {**RANGE, **params, "export": "csv"}))
    assert sorted(r["message_id"] for r in rows) == sorted(ids)


def test_the_page_offers_the_searches_with_their_labels(alice_client, scenario):
    html = alice_client.get("/messages/", RANGE).content.decode()
    for label in ("Message ID", "Subject words", "Recipient address"):
        assert f">{label}</label>" in html
    assert "(alice@) or a domain (@gmail.com)" in html


def test_another_account_finds_nothing(other_api_client, scenario):
    for params in ({"recipient": "@gmail.com"}, {"subject": "offer"}, {"message_id": "m1"}):
        body = other_api_client.get("/api/v1/messages/", {**RANGE, **params}).json()
        assert body["count"] == 0


def test_overlong_search_terms_are_refused(api_client, scenario):
    response = api_client.get("/api/v1/messages/", {**RANGE, "subject": "x" * 201})
    assert response.status_code == 400
    assert "subject" in response.json()["details"]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="trigram indexes are PostgreSQL's")
def test_partial_searches_can_use_the_trigram_indexes(account):
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
    plans = [
        Message.objects.filter(subject__icontains="offer").explain(),
        Message.objects.filter(recipient__istartswith="ann@").explain(),
        Message.objects.filter(recipient__iendswith="@gmail.com").explain(),
    ]
    assert "message_subject_search" in plans[0]
    assert "message_recipient_search" in plans[1]
    assert "message_recipient_search" in plans[2]


def test_a_message_id_outside_the_dates_says_where_the_message_is(
    alice_client, scenario, client, bob
):
    later = {"start": "2026-11-29", "end": "2026-11-30", "message_id": "m3"}
    page = alice_client.get("/messages/", later)
    assert page.status_code == 200 and not page.context["page"].object_list
    html = page.content.decode()
    assert "The message m3 was requested on 2026-11-2" in html and "outside these dates" in html
    assert 'href="/messages/id/m3/"' in html
    # An id that is nobody's, or another account's, says nothing more.
    assert (
        "outside these dates"
        not in alice_client.get("/messages/", {**later, "message_id": "m3x"}).content.decode()
    )
    client.force_login(bob)
    assert "outside these dates" not in client.get("/messages/", later).content.decode()
