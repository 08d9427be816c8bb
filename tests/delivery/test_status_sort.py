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
