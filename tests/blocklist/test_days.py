"""Dates on the block lists name days in the account's time zone, everywhere alike."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine
from django.urls import reverse

from blocklist import queries
from tests.blocklist.conftest import bounce

pytestmark = pytest.mark.django_db

# 17:30 UTC on the 28th is 01:30 on the 29th in Shanghai (UTC+8).
AT = "2026-11-28T17:30:00Z"


@pytest.fixture
def shanghai_block(account):
    account.time_zone = "Asia/Shanghai"
    account.save()
    bounce(account, "late@example.com", timestamp=AT)


def api_addresses(client, **params) -> list[str]:
    r = client.get("/api/v1/blocklist/invalid/", params)
    assert r.status_code == 200
    return [row["address"] for row in r.json()["results"]]


@time_machine.travel("2026-11-30T12:00:00Z", tick=False)  # the block is active, whenever this runs
def test_the_api_page_and_query_agree_on_the_local_day(
    shanghai_block, account, api_client, alice_client
):
    on_29th = {"start": "2026-11-29", "end": "2026-11-29"}
    on_28th = {"start": "2026-11-28", "end": "2026-11-28"}
    assert api_addresses(api_client, **on_29th) == ["late@example.com"]
    assert api_addresses(api_client, **on_28th) == []

    page = alice_client.get(reverse("blocklist:invalid"), on_29th)
    assert [b.address for b in page.context["page"]] == ["late@example.com"]
    page = alice_client.get(reverse("blocklist:invalid"), on_28th)
    assert list(page.context["page"]) == []

    day = date(2026, 11, 29)
    assert queries.invalid_blocks_visible_to(account, day, day).count() == 1
    day = date(2026, 11, 28)
    assert queries.invalid_blocks_visible_to(account, day, day).count() == 0


def test_the_history_uses_the_same_days(account, alice_client):
    account.time_zone = "Asia/Shanghai"
    account.save()
    with time_machine.travel(AT, tick=False):
        bounce(account, "late@example.com", timestamp=AT)  # its history row is written at AT
    for day, rows in [("2026-11-29", 1), ("2026-11-28", 0)]:
        r = alice_client.get(reverse("blocklist:history"), {"start": day, "end": day})
        assert len(r.context["page"].object_list) == rows


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31"])
def test_extreme_dates_answer_instead_of_failing(shanghai_block, api_client, alice_client, day):
    assert (
        api_client.get("/api/v1/blocklist/invalid/", {"start": day, "end": day}).status_code == 200
    )
    assert (
        api_client.get("/api/v1/blocklist/history/", {"start": day, "end": day}).status_code == 200
    )
    r = alice_client.get(reverse("blocklist:custom"), {"start": day, "end": day})
    assert r.status_code == 200
