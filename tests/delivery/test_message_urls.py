"""Every message id ingestion accepts has a page: its link resolves back to the same id."""

from __future__ import annotations

from urllib.parse import unquote

from django.urls import resolve, reverse
from hypothesis import given
from hypothesis import strategies as st

from stats.views import _event_rows

# What ingestion takes as a message id: 1-128 characters, no NUL or lone surrogate, not
# blank (delivery.wire refuses the rest with a stable code).
message_ids = st.text(
    st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"),
    min_size=1,
    max_size=128,
).filter(lambda s: s.strip())


@given(message_ids)
def test_every_message_id_links_to_its_own_page(message_id):
    for name in ("delivery:message_detail", "delivery:message_body"):
        url = reverse(name, args=[message_id])
        match = resolve(unquote(url))
        assert match.view_name == name
        assert match.kwargs["message_id"] == message_id


@given(message_ids.filter(lambda s: s != "export"))
def test_every_message_id_has_its_api_detail(message_id):
    match = resolve(unquote(reverse("api:message-detail", kwargs={"message_id": message_id})))
    assert match.url_name == "message-detail"
    assert match.kwargs["message_id"] == message_id


def test_the_api_answers_for_a_message_id_with_a_slash(api_client, account):
    from urllib.parse import quote

    from delivery.ingest import ingest_events
    from tests.events import make_event

    message_id = "<0100018c/AbC+=@email.example.com>"
    assert ingest_events(account, [make_event("request", message_id)]).accepted == 1
    response = api_client.get(f"/api/v1/messages/{quote(message_id, safe='')}/")
    assert response.status_code == 200
    assert response.json()["message_id"] == message_id
    # Still the export (which asks for its dates), not the message named "export".
    export = api_client.get("/api/v1/messages/export/")
    assert export.status_code == 400 and set(export.json()["details"]) == {"start", "end"}


@given(message_ids)
def test_the_report_rows_link_as_reverse_does(message_id):
    from datetime import UTC, datetime
    from types import SimpleNamespace

    message = SimpleNamespace(
        message_id=message_id,
        sent_at=None,
        recipient="",
        from_address="",
        subject="",
    )
    event = SimpleNamespace(
        message=message,
        timestamp=datetime(2026, 11, 27, tzinfo=UTC),
        type="opened",
        is_machine=False,
        bounce_class="",
        url="",
        user_agent="",
        response_text="",
    )
    [row] = _event_rows([event], UTC)
    assert row["detail"] == reverse("delivery:message_detail", args=[message_id])
