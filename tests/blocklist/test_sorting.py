"""Sorting the block lists: the pages' `?sort=` and the API's `?ordering=`."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from blocklist import custom
from blocklist.changes import SYSTEM

pytestmark = pytest.mark.django_db

ADDRESSES = ["b@example.com", "c@example.com", "a@example.com"]  # added in this order


@pytest.fixture
def blocks(account):
    start = timezone.now() - timedelta(hours=1)
    for minutes, address in enumerate(ADDRESSES):
        with time_machine.travel(start + timedelta(minutes=minutes)):
            custom.add_custom_blocks(account, [address], actor=SYSTEM)


def page_order(client, **params) -> list[str]:
    r = client.get(reverse("blocklist:custom"), params)
    assert r.status_code == 200
    return [b.address for b in r.context["page"]]


@pytest.mark.parametrize(
    "sort, expected",
    [
        (None, ["a@example.com", "c@example.com", "b@example.com"]),  # newest first
        ("address", ["a@example.com", "b@example.com", "c@example.com"]),
        ("-address", ["c@example.com", "b@example.com", "a@example.com"]),
        ("blocked", ["b@example.com", "c@example.com", "a@example.com"]),
        ("nonsense", ["a@example.com", "c@example.com", "b@example.com"]),
        ("blocked_at", ["a@example.com", "c@example.com", "b@example.com"]),
    ],
)
def test_the_page_sorts_by_its_column_keys(alice_client, blocks, sort, expected):
    params = {"sort": sort} if sort else {}
    assert page_order(alice_client, **params) == expected


def test_the_page_names_the_sort_in_force(alice_client, blocks):
    assert alice_client.get(reverse("blocklist:custom")).context["sort"] == "-blocked"
    r = alice_client.get(reverse("blocklist:custom"), {"sort": "-address"})
    assert r.context["sort"] == "-address"
    assert b'name="sort" value="-address"' in r.content
    r = alice_client.get(reverse("blocklist:custom"), {"sort": "bogus"})
    assert r.context["sort"] == "-blocked"


def test_the_sort_field_is_not_a_visible_filter(alice_client, blocks):
    r = alice_client.get(reverse("blocklist:custom"))
    assert b'<label for="id_sort"' not in r.content


@pytest.mark.parametrize(
    "params, expected",
    [
        ({}, ["a@example.com", "c@example.com", "b@example.com"]),
        ({"ordering": "address"}, ["a@example.com", "b@example.com", "c@example.com"]),
        ({"ordering": "-address"}, ["c@example.com", "b@example.com", "a@example.com"]),
        ({"ordering": "bogus"}, ["a@example.com", "c@example.com", "b@example.com"]),
        ({"sort": "bogus"}, ["a@example.com", "c@example.com", "b@example.com"]),
    ],
)
def test_the_api_orders_as_before_and_never_fails_on_a_sort(api_client, blocks, params, expected):
    r = api_client.get("/api/v1/blocklist/custom/", params)
    assert r.status_code == 200
    assert [row["address"] for row in r.json()["results"]] == expected
