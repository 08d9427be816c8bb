"""Sorting the block lists: the pages' `?sort=` and the API's `?ordering=`."""

from __future__ import annotations

import csv
import io
import itertools
from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from blocklist import custom, queries
from blocklist.changes import SYSTEM, release
from blocklist.models import Block, Whitelist
from blocklist.pagination import ListPaginator
from delivery.ingest import ingest_events
from tests.blocklist.conftest import bounce
from tests.events import make_event

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


# Sorted by the sends stopped, an account's invalid-address list orders its own blocks by
# their counts and another account's blocks as it shows them: with no count (the API's null,
# the export's blank, the page's "Not shown"), after its own in either direction and newest
# first among themselves, whatever their hidden counts (which count other tenants' sends).

OWN = {"own-1@x.example": 2, "own-2@x.example": 0, "own-3@x.example": 5}  # in the order made
THEIRS = {"their-1@y.example": 300, "their-2@y.example": 100, "their-3@y.example": 200}
BY_STOPS = ["own-2@x.example", "own-1@x.example", "own-3@x.example"]
THEIRS_NEWEST_FIRST = ["their-3@y.example", "their-2@y.example", "their-1@y.example"]

_mail = itertools.count(1)


def set_stops(counts: dict[str, int]) -> None:
    now = timezone.now()
    for address, count in counts.items():
        Block.objects.filter(address=address).update(
            stopped_count=count, last_stopped_at=now if count else None
        )


@pytest.fixture
def stops(account, other_account):
    """Blocks the other account triggered on addresses `account` has mailed (so it sees them),
    then `account`'s own; each with its count of sends stopped."""
    for address in THEIRS:
        bounce(other_account, address)
        ingest_events(account, [make_event("request", f"stops-{next(_mail)}", to=address)])
    for address in OWN:
        bounce(account, address)
    set_stops({**OWN, **THEIRS})


def _csv_addresses(response) -> list[str]:
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode()
    return [line["address"] for line in csv.DictReader(io.StringIO(text))]


def invalid_list(request, how: str, descending: bool) -> list[str]:
    """The account's invalid-address list sorted by stops, as `how` reads it."""
    sort, ordering = ("-stopped", "-stopped_count") if descending else ("stopped", "stopped_count")
    if how == "page":
        r = request.getfixturevalue("alice_client").get(
            reverse("blocklist:invalid"), {"sort": sort}
        )
        assert r.status_code == 200
        return [b.address for b in r.context["page"]]
    client = request.getfixturevalue("api_client")
    url = "/api/v1/blocklist/invalid/"
    params = {"ordering": ordering} if how.endswith("ordering") else {"sort": sort}
    if how.startswith("export"):
        return _csv_addresses(client.get(f"{url}export/", params))
    r = client.get(url, params)
    assert r.status_code == 200
    return [row["address"] for row in r.json()["results"]]


WAYS = ["page", "api ordering", "api sort", "export ordering", "export sort"]


@pytest.mark.parametrize("how", WAYS)
@pytest.mark.parametrize("descending", [False, True])
def test_sorted_by_stops_another_accounts_blocks_come_after_ones_own_newest_first(
    request, stops, how, descending
):
    own = BY_STOPS[::-1] if descending else BY_STOPS
    assert invalid_list(request, how, descending) == own + THEIRS_NEWEST_FIRST


def test_the_api_still_shows_ones_own_stops_and_none_of_another_accounts(api_client, stops):
    r = api_client.get("/api/v1/blocklist/invalid/", {"ordering": "-stopped_count"})
    assert [row["stopped_count"] for row in r.json()["results"]] == [5, 2, 0, None, None, None]


def test_staff_seeing_every_account_sort_by_the_real_counts(staff_client, stops):
    everyone = {**OWN, **THEIRS}
    r = staff_client.get("/api/v1/blocklist/invalid/", {"ordering": "-stopped_count"})
    assert r.status_code == 200
    rows = r.json()["results"]
    assert [row["address"] for row in rows] == sorted(everyone, key=everyone.get, reverse=True)
    assert [row["stopped_count"] for row in rows] == sorted(everyone.values(), reverse=True)
    r = staff_client.get("/api/v1/blocklist/invalid/export/", {"sort": "stopped"})
    assert _csv_addresses(r) == sorted(everyone, key=everyone.get)


def test_ones_own_list_sorts_by_its_counts_as_before(alice_client, stops):
    r = alice_client.get(reverse("blocklist:my_triggers"), {"sort": "-stopped"})
    assert [b.address for b in r.context["page"]] == BY_STOPS[::-1]


STOPS = st.one_of(st.integers(0, 3), st.integers(0, 2**31 - 1))  # small ones tie


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    counts=st.fixed_dictionaries({a: STOPS for a in [*OWN, *THEIRS]}),
    how=st.sampled_from(WAYS),
    descending=st.booleans(),
)
def test_the_order_by_stops_tells_nothing_of_another_accounts_counts(
    request, stops, counts, how, descending
):
    """Any counts: one's own blocks in the order of theirs, ties newest first; another
    account's after them, newest first, as if their counts were not there."""
    set_stops(counts)
    pk = dict(Block.objects.values_list("address", "pk"))
    sign = -1 if descending else 1
    own = sorted(OWN, key=lambda a: (sign * counts[a], -pk[a]))
    assert invalid_list(request, how, descending) == own + THEIRS_NEWEST_FIRST
