"""Sorting the Email status page by status: within a status newest first, and `-status` is
exactly that list reversed (so one index over (account, status, request time) serves both
directions at any size)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.factories import MessageFactory

pytestmark = pytest.mark.django_db

DAY = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


def _ids(client, sort: str) -> list[str]:
    response = client.get("/messages/", {"start": "2026-11-20", "end": "2026-11-20", "sort": sort})
    assert response.status_code == 200
    return [m.message_id for m in response.context["page"]]


def test_status_sort_is_newest_first_within_a_status_and_descending_reverses_it(
    alice_client, account
):
    statuses = ["delivered", "bounced", "deferred", "delivered", "bounced", "delivered"]
    for n, status in enumerate(statuses):
        MessageFactory(
            account=account,
            message_id=f"m{n}",
            status=status,
            requested_at=DAY + timedelta(minutes=n),
        )

    ascending = _ids(alice_client, "status")
    assert ascending == ["m4", "m1", "m2", "m5", "m3", "m0"]
    assert _ids(alice_client, "-status") == ascending[::-1]
    # Other keys keep their order: newest first by default, the id breaking ties.
    assert _ids(alice_client, "-requested") == ["m5", "m4", "m3", "m2", "m1", "m0"]


@pytest.mark.parametrize("per_page", [1, 2, 3, 5])
@pytest.mark.parametrize("descending", [False, True])
def test_pages_read_status_by_status_hold_the_same_rows_as_one_sorted_query(
    account, per_page, descending
):
    from delivery.models import Message
    from sesconsole.lib.pagination import CappedPaginator, Concatenated

    statuses = ["delivered", "bounced", "deferred", "rejected", "delivered", "pending"] * 3
    for n, status in enumerate(statuses):
        MessageFactory(account=account, status=status, requested_at=DAY + timedelta(minutes=n))
    sort = ("-status", "requested_at", "pk") if descending else ("status", "-requested_at", "-pk")
    ordered = Message.objects.filter(account=account).order_by(*sort)
    parts = Concatenated(
        ordered.filter(status=s) for s in sorted(Message.Status.values, reverse=descending)
    )

    plain = CappedPaginator(ordered, per_page)
    split = CappedPaginator(parts, per_page)
    assert split.count == plain.count == len(statuses)
    assert split.num_pages == plain.num_pages
    for number in plain.page_range:
        assert list(split.page(number)) == list(plain.page(number))
    # Past the cap the count says "more than", as for one query.
    plain, split = CappedPaginator(ordered, per_page), CappedPaginator(parts, per_page)
    plain.cap = split.cap = 7
    assert (split.count, split.capped) == (plain.count, plain.capped) == (7, True)
    assert list(split.page(split.num_pages)) == list(plain.page(plain.num_pages))
    assert parts[4] == list(ordered)[4]


def test_the_api_orders_by_status_as_the_page_does_and_breaks_ties(api_client, account):
    for n, status in enumerate(["delivered", "bounced", "delivered", "bounced", "deferred"]):
        MessageFactory(
            account=account,
            message_id=f"m{n}",
            status=status,
            requested_at=DAY + timedelta(minutes=n),
        )
    # Two messages requested at the same moment: only the id can order them.
    for n in (5, 6):
        MessageFactory(account=account, message_id=f"m{n}", status="deferred", requested_at=DAY)

    def ids(**params):
        params = {"start": "2026-11-20", "end": "2026-11-20", **params}
        return [
            r["message_id"] for r in api_client.get("/api/v1/messages/", params).json()["results"]
        ]

    ascending = ids(ordering="status")
    assert ascending == ["m3", "m1", "m4", "m6", "m5", "m2", "m0"]
    assert ids(ordering="-status") == ascending[::-1]
    # Read a status at a time, page by page, the rows are the same and in the same order.
    for ordering, whole in (("status", ascending), ("-status", ascending[::-1])):
        pages = [ids(ordering=ordering, page_size=2, page=n) for n in (1, 2, 3, 4)]
        assert [m for page in pages for m in page] == whole
    count = api_client.get(
        "/api/v1/messages/",
        {"start": "2026-11-20", "end": "2026-11-20", "ordering": "-status", "page_size": 2},
    ).json()["count"]
    assert count == 7
    # Any other key gets the id as the last tie-breaker: equal request times, newest id first.
    assert ids(ordering="requested_at")[:3] == ["m6", "m5", "m0"]
    assert ids() == ["m4", "m3", "m2", "m1", "m6", "m5", "m0"]
