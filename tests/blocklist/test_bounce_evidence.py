"""An invalid-address block keeps what its bounce verdict rested on; staff lift by strength."""

from __future__ import annotations

import pytest
from django.urls import reverse

from blocklist.models import Block
from delivery.ingest import ingest_events
from delivery.models import DeliveryEvent
from tests.blocklist.conftest import answer_yes, bounce
from tests.events import make_event

pytestmark = pytest.mark.django_db


def test_the_evidence_of_the_smtp_reply_reaches_the_event_and_the_block(account):
    bounce(account, "dsn@example.com")
    bounce(
        account,
        "words@example.com",
        smtp={"code": 550, "text": "550 Sorry, no such user here"},
    )

    blocks = dict(Block.objects.invalid().values_list("address", "bounce_evidence"))
    assert blocks == {"dsn@example.com": "dsn_5_1_x", "words@example.com": "wording"}
    assert set(
        DeliveryEvent.objects.filter(type="bounced").values_list("bounce_evidence", flat=True)
    ) == {
        "dsn_5_1_x",
        "wording",
    }


def test_an_event_may_state_its_evidence_and_bad_values_are_refused(account):
    result = bounce(account, "stated@example.com", bounce_evidence="text_5_1_x")
    assert not result.errors
    assert Block.objects.get(address="stated@example.com").bounce_evidence == "text_5_1_x"

    ingest_events(account, [make_event("request", "m-bad", to="bad@example.com")])
    bad = ingest_events(
        account,
        [
            make_event("bounced", "m-bad", to="bad@example.com", bounce_evidence="hunch"),
            make_event(
                "bounced",
                "m-bad",
                to="bad@example.com",
                bounce_class="mailbox_full",
                bounce_evidence="wording",
            ),
        ],
    )
    assert [e["code"] for e in bad.errors] == ["invalid_field", "invalid_field"]
    assert not Block.objects.filter(address="bad@example.com").exists()


def test_a_policy_block_never_becomes_an_invalid_address_block(account):
    bounce(
        account,
        "policy@example.com",
        bounce_class="",
        smtp={
            "code": 550,
            "enhanced": "5.7.1",
            "text": "550 5.7.1 User unknown; blocked by policy",
        },
    )
    bounce(account, "bare@example.com", bounce_class="", smtp={"code": 550, "text": "550 Rejected"})

    assert not Block.objects.invalid().exists()


def test_the_invalid_block_list_shows_the_evidence(account, api_client):
    bounce(account, "dsn@example.com")

    r = api_client.get("/api/v1/blocklist/invalid/")

    assert r.status_code == 200
    (row,) = r.json()["results"] if "results" in r.json() else r.json()["data"]
    assert row["bounce_evidence"] == "dsn_5_1_x"


def test_the_blocking_query_shows_the_evidence(account, api_client):
    bounce(account, "words@example.com", smtp={"code": 550, "text": "550 no such user"})

    r = api_client.post(
        "/api/v1/blocklist/check/", {"addresses": ["words@example.com"]}, format="json"
    )

    (verdict,) = r.json()["results"]
    assert verdict["blocked"] and verdict["kind"] == "invalid"
    assert verdict["matches"][0]["bounce_evidence"] == "wording"


def test_staff_filter_by_evidence_and_lift_only_the_weak_ones(staff_client, account):
    bounce(account, "dsn@example.com")
    bounce(account, "words@example.com", smtp={"code": 550, "text": "550 no such user"})
    changelist = reverse("admin:blocklist_block_changelist")

    r = staff_client.get(changelist, {"bounce_evidence__exact": "wording"})
    assert b"words@example.com" in r.content and b"dsn@example.com" not in r.content

    asked = staff_client.post(
        changelist,
        {
            "action": "lift_wording",
            "_selected_action": list(Block.objects.values_list("pk", flat=True)),
        },
        follow=True,
    )
    question = asked.content.decode()
    assert "Lift 1 invalid-address block(s) resting on" in question
    assert "words@example.com" in question and "dsn@example.com" not in question
    assert Block.objects.active().count() == 2, "nothing lifted on asking"
    r = answer_yes(staff_client, asked)

    assert "Lifted 1 invalid-address block(s)" in r.content.decode()
    assert list(Block.objects.invalid().active().values_list("address", flat=True)) == [
        "dsn@example.com"
    ]
