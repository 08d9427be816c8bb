"""Sorting the block lists: the pages' `?sort=` and the API's `?ordering=`."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from blocklist import custom, queries
from blocklist.changes import SYSTEM, release
from blocklist.models import Block, Whitelist
from blocklist.pagination import ListPaginator
from tests.blocklist.conftest import bounce

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


# The invalid-address list of an account past the cap, sorted by address, reads its first
# pages by walking the address index (blocklist.pagination.ListPaginator.walked).

MINE = ["d@x.example", "a@y.example", "f@x.example", "b@z.example", "e@y.example", "c@x.example"]


@pytest.fixture
def visible_blocks(account, other_account):
    for address in MINE:
        bounce(account, address)
    for address in ["aa@other.example", "ca@other.example", "zz@other.example"]:
        bounce(other_account, address)  # blocks account never mailed: not its to see
    bounce(account, "gone@x.example")
    removed = Block.objects.get(address="gone@x.example")
    release(
        Block.objects.filter(pk=removed.pk), "removed", "removed", account=account, actor=SYSTEM
    )


def _pages(client, sort: str) -> tuple[list[str], list[bool]]:
    rows, walked = [], []
    for number in range(1, 10):
        r = client.get(reverse("blocklist:invalid"), {"sort": sort, "page": number})
        assert r.status_code == 200
        page = r.context["page"]
        walked.append('JOIN "blocklist_visibleblock"' not in str(page.object_list.query))
        rows += [b.address for b in page]
        if not page.has_next():
            return rows, walked
    raise AssertionError("more pages than rows")


@pytest.mark.parametrize("sort", ["address", "-address"])
def test_a_list_past_the_cap_walks_the_address_index_to_the_same_rows(
    alice_client, visible_blocks, monkeypatch, sort
):
    monkeypatch.setattr("blocklist.views.PAGE_SIZE", 2)
    monkeypatch.setattr(ListPaginator, "cap", 4)  # 6 visible: past it
    monkeypatch.setattr(ListPaginator, "WALK_ROWS", 4)  # the first two pages
    expected = sorted(MINE, reverse=sort.startswith("-"))[:4]
    rows, walked = _pages(alice_client, sort)
    assert rows == expected
    assert walked == [True, True]


def test_past_its_walk_rows_or_under_the_cap_the_list_is_joined(
    alice_client, visible_blocks, monkeypatch
):
    monkeypatch.setattr("blocklist.views.PAGE_SIZE", 2)
    monkeypatch.setattr(ListPaginator, "cap", 4)
    monkeypatch.setattr(ListPaginator, "WALK_ROWS", 2)
    assert _pages(alice_client, "address") == (sorted(MINE)[:4], [True, False])
    monkeypatch.setattr(ListPaginator, "cap", 6)  # not past it
    assert _pages(alice_client, "address") == (sorted(MINE), [False, False, False])
    assert _pages(alice_client, "-blocked")[1] == [False, False, False]


def test_the_walked_rows_are_the_joined_rows_for_any_filter(account, visible_blocks):
    Whitelist.objects.create(account=account, block=Block.objects.get(address="b@z.example"))
    for address in ["", "c@x.example", "aa@other.example"]:
        joined = queries.invalid_blocks_visible_to(account, address=address)
        walked = queries.invalid_blocks_visible_to(account, address=address, probe_each=True)
        fields = ("address", "whitelisted")
        assert list(walked.order_by("address").values_list(*fields)) == list(
            joined.order_by("address").values_list(*fields)
        )


@pytest.mark.parametrize("ordering", ["address", "-address"])
def test_the_api_walks_too_and_gives_the_same_rows(
    api_client, visible_blocks, monkeypatch, ordering
):
    monkeypatch.setattr(ListPaginator, "cap", 4)
    monkeypatch.setattr(ListPaginator, "WALK_ROWS", 4)
    walks = []
    page = ListPaginator.page

    def spy(self, number):
        walks.append(self.walked is not None)
        return page(self, number)

    monkeypatch.setattr(ListPaginator, "page", spy)
    rows = []
    for number in (1, 2):
        r = api_client.get(
            "/api/v1/blocklist/invalid/", {"ordering": ordering, "page": number, "page_size": 2}
        )
        assert r.status_code == 200
        assert r.json()["count"] == 4 and r.json()["count_capped"] is True
        rows += [row["address"] for row in r.json()["results"]]
    assert rows == sorted(MINE, reverse=ordering.startswith("-"))[:4]
    assert walks == [True, True]
    r = api_client.get("/api/v1/blocklist/invalid/", {"page_size": 2})
    assert walks[-1] is False  # newest first is the join's own order
