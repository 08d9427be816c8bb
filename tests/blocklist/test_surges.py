"""A surge of invalid-address verdicts at one domain is held for staff, not blocked.

Limits here are small (5 verdicts in an hour, 10 times the usual over 7 days); the product's
defaults are in settings (INVALID_SURGE_*). Everything goes through real ingestion.
"""

from __future__ import annotations

import itertools
import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.cache import cache
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from blocklist import gate, surges
from blocklist.changes import Actor
from blocklist.models import INVALID_BLOCK_DAYS, Block, History, InvalidSurge
from delivery.ingest import ingest_events
from delivery.models import DeliveryEvent, Message
from tests.blocklist.conftest import answer_yes
from tests.events import make_event

pytestmark = pytest.mark.django_db

_n = itertools.count(1)
OUTAGE = "550 5.1.1 The email account that you tried to reach does not exist."


@pytest.fixture(autouse=True)
def small_limits(settings):
    settings.INVALID_SURGE_MIN_VERDICTS = 5
    settings.INVALID_SURGE_FACTOR = 10
    settings.INVALID_SURGE_WINDOW_MINUTES = 60
    settings.INVALID_SURGE_BASELINE_DAYS = 7
    settings.INVALID_SURGE_HOLD_HOURS = 6


@pytest.fixture(autouse=True)
def history(account):
    """An installation with days of verdicts: its usual numbers are known (none at gmail.test)."""
    bounces(account, ["first@elsewhere.test"], timezone.now() - timedelta(days=3))


@pytest.fixture
def staff(staff_user):
    return Actor(staff_user, "staff:staff")


def bounces(account, addresses, at):
    """One batch of requests, then one batch of invalid-address bounces, `at` that time."""
    return bounce_each(account, [(a, at) for a in addresses])


def bounce_each(account, verdicts):
    """One batch of requests, then one batch of invalid-address bounces: `verdicts` is
    [(address, time)]."""
    stamp = {a: at.strftime("%Y-%m-%dT%H:%M:%SZ") for a, at in verdicts}
    ids = {a: f"s-{next(_n)}" for a, _ in verdicts}
    smtp = {"code": 550, "enhanced": "5.1.1", "text": OUTAGE}
    ingest_events(
        account, [make_event("request", ids[a], to=a, timestamp=stamp[a]) for a, _ in verdicts]
    )
    return ingest_events(
        account,
        [
            make_event(
                "bounced", ids[a], timestamp=stamp[a], smtp=smtp, bounce_class="invalid_address"
            )
            for a, _ in verdicts
        ],
    )


def blocked(account, addresses) -> set[str]:
    verdicts = gate.check(account, addresses)
    return {a for a in addresses if verdicts[a].blocked}


def people(n, domain="gmail.test", start=0):
    return [f"user{i}@{domain}" for i in range(start, start + n)]


@pytest.fixture
def an_hour_ago():
    return timezone.now() - timedelta(hours=1)


def test_the_verdicts_that_make_a_surge_and_those_after_it_are_held(account, an_hour_ago):
    for i, address in enumerate(people(4)):
        bounces(account, [address], an_hour_ago + timedelta(minutes=i))
    assert blocked(account, people(4)) == set(people(4)), "below the limit every verdict blocks"

    result = bounces(account, people(2, start=4), an_hour_ago + timedelta(minutes=10))
    assert result.accepted == 2, "the verdicts themselves are stored"
    surge = InvalidSurge.objects.get()
    assert (surge.domain, surge.decision, surge.held) == ("gmail.test", "", 2)
    assert surge.verdicts_at_opening == 6 and surge.usual_per_window == 0
    assert blocked(account, people(2, start=4)) == set()

    bounces(account, people(3, start=6), an_hour_ago + timedelta(minutes=20))
    assert blocked(account, people(3, start=6)) == set()
    assert InvalidSurge.objects.get().held == 5


def test_other_domains_block_as_always_during_a_surge(account, an_hour_ago):
    bounces(account, people(6), an_hour_ago)
    assert InvalidSurge.objects.filter(domain="gmail.test").exists()
    bounces(account, people(2, domain="example.org"), an_hour_ago + timedelta(minutes=1))
    assert blocked(account, people(2, domain="example.org")) == set(people(2, domain="example.org"))
    assert not InvalidSurge.objects.filter(domain="example.org").exists()


def test_a_domain_that_usually_has_this_many_verdicts_has_no_surge(account, an_hour_ago):
    # 7 days of a busy domain's verdicts: about 2 an hour, so 6 in one hour is not 10 times it.
    Block.objects.bulk_create(
        Block(
            kind=Block.Kind.INVALID,
            reason=Block.Reason.INVALID_ADDRESS,
            account=account,
            address=f"old{i}@gmail.test",
            blocked_at=an_hour_ago - timedelta(hours=2 + i / 2),
            expires_at=an_hour_ago + timedelta(days=170),
        )
        for i in range(330)
    )
    bounces(account, people(6), an_hour_ago + timedelta(minutes=30))
    assert not InvalidSurge.objects.exists()
    assert blocked(account, people(6)) == set(people(6))


def test_the_same_number_spread_over_hours_is_no_surge(account):
    start = timezone.now() - timedelta(hours=12)
    for i, address in enumerate(people(12)):
        bounces(account, [address], start + timedelta(hours=i))
    assert not InvalidSurge.objects.exists()
    assert blocked(account, people(12)) == set(people(12))


def test_a_new_installation_judges_no_surge_before_it_has_an_hour_of_verdicts(account):
    Block.objects.all().delete()  # history (a fixture) never happened: this is the first hour
    bounces(account, people(20), timezone.now() - timedelta(minutes=30))
    assert not InvalidSurge.objects.exists()
    assert blocked(account, people(20)) == set(people(20))


def test_the_usual_number_of_a_young_installation_comes_from_the_hours_it_has(account):
    # Two days of history (the fixture's first verdict is 3 days back), 3 verdicts an hour
    # at gmail.test: 6 in an hour is no surge, though over 7 days that would be usual 2.
    Block.objects.all().delete()
    first = timezone.now() - timedelta(days=2)
    Block.objects.bulk_create(
        Block(
            kind=Block.Kind.INVALID,
            reason=Block.Reason.INVALID_ADDRESS,
            account=account,
            address=f"old{i}@gmail.test",
            blocked_at=first + timedelta(minutes=20 * i),
            expires_at=first + timedelta(days=180),
        )
        for i in range(3 * 44)
    )
    bounces(account, people(6), timezone.now() - timedelta(minutes=10))
    assert not InvalidSurge.objects.exists()
    bounces(account, people(60, start=6), timezone.now() - timedelta(minutes=5))
    assert InvalidSurge.objects.get().usual_per_window == pytest.approx(3, abs=0.3)


def test_one_accounts_bad_list_holds_nothing_where_there_are_other_accounts(
    account, other_account, an_hour_ago
):
    bounces(account, people(20), an_hour_ago)
    assert not InvalidSurge.objects.exists()
    assert blocked(account, people(20)) == set(people(20)), "its own list's, blocked as always"

    bounces(other_account, people(1, start=20), an_hour_ago + timedelta(minutes=1))
    surge = InvalidSurge.objects.get()
    assert surge.verdicts_at_opening == 21 and surge.held == 1
    assert blocked(account, people(1, start=20)) == set()


def test_a_limit_of_zero_turns_surges_off(account, an_hour_ago, settings):
    settings.INVALID_SURGE_MIN_VERDICTS = 0
    bounces(account, people(50), an_hour_ago)
    assert not InvalidSurge.objects.exists()
    assert blocked(account, people(50)) == set(people(50))


def test_blocking_the_held_verdicts_makes_the_blocks_they_would_have_made(
    account, other_account, an_hour_ago, staff
):
    bounces(account, people(4), an_hour_ago)
    bounces(other_account, people(3, start=4), an_hour_ago + timedelta(minutes=5))
    bounces(account, people(2, start=7), an_hour_ago + timedelta(minutes=6))
    surge = InvalidSurge.objects.get()
    assert blocked(account, people(9)) == set(people(4))
    preview = surges.decision_preview(surge)
    assert (preview.verdicts, preview.addresses, preview.accounts) == (5, 5, 2)
    assert preview.to_block == 5, "what the admin asks about is what the decision does"

    assert surges.block_held(surge.pk, actor=staff) == 5
    assert blocked(account, people(9)) == set(people(9))
    block = Block.objects.get(address="user4@gmail.test")
    assert block.account == other_account, "each block keeps the account whose sending caused it"
    assert block.response_text == OUTAGE and block.bounce_evidence
    assert block.blocked_at == an_hour_ago.replace(microsecond=0) + timedelta(minutes=5)
    assert block.expires_at == block.blocked_at + timedelta(days=INVALID_BLOCK_DAYS)
    added = History.objects.get(block=block)
    assert added.actor_label == "staff:staff" and "held in a surge at gmail.test" in added.detail
    surge.refresh_from_db()
    assert (surge.decision, surge.decided_by, surge.decision_count) == ("blocked", "staff:staff", 5)

    with pytest.raises(surges.AlreadyDecided):
        surges.block_held(surge.pk, actor=staff)
    assert Block.objects.filter(address__endswith="@gmail.test").count() == 9

    bounces(account, ["late@gmail.test"], an_hour_ago + timedelta(minutes=30))
    assert blocked(account, ["late@gmail.test"]) == {"late@gmail.test"}, "decided: no longer held"


def test_dismissing_lifts_the_blocks_of_the_window_and_blocks_nothing_held(
    account, an_hour_ago, staff
):
    bounces(account, ["before@gmail.test"], an_hour_ago - timedelta(hours=3))
    bounces(account, ["elsewhere@example.org"], an_hour_ago)
    for i, address in enumerate(people(4)):
        bounces(account, [address], an_hour_ago + timedelta(minutes=i))
    bounces(account, people(3, start=4), an_hour_ago + timedelta(minutes=5))
    surge = InvalidSurge.objects.get()
    preview = surges.decision_preview(surge)
    assert (preview.verdicts, preview.to_lift) == (3, 4)

    assert surges.dismiss(surge.pk, actor=staff) == 4
    assert blocked(account, people(7)) == set()
    assert blocked(account, ["before@gmail.test", "elsewhere@example.org"]) == {
        "before@gmail.test",
        "elsewhere@example.org",
    }, "blocks outside the surge's window or domain stay"
    lifted = Block.objects.get(address="user0@gmail.test")
    assert lifted.release_reason == Block.Release.REMOVED
    removed = History.objects.get(block=lifted, action=History.Action.REMOVED)
    assert "a fault at the receiver" in removed.detail and removed.actor_label == "staff:staff"
    surge.refresh_from_db()
    assert (surge.decision, surge.decision_count) == ("dismissed", 4)
    with pytest.raises(surges.AlreadyDecided):
        surges.dismiss(surge.pk, actor=staff)


def test_an_undecided_surge_stops_holding_when_its_hold_runs_out(account, an_hour_ago):
    bounces(account, people(6), an_hour_ago - timedelta(hours=3))
    surge = InvalidSurge.objects.get()
    InvalidSurge.objects.filter(pk=surge.pk).update(
        hold_until=timezone.now() - timedelta(seconds=1)
    )
    bounces(account, ["after@gmail.test"], an_hour_ago + timedelta(minutes=30))
    assert blocked(account, ["after@gmail.test"]) == {"after@gmail.test"}
    surge.refresh_from_db()
    assert surge.decision == "" and surge.held == 6, "still there for staff to judge"


def test_a_backlog_batch_spanning_hours_is_judged_as_it_happened(
    account, other_account, an_hour_ago
):
    """A replayed backlog may put hours of bounces in one batch: the surge in its first
    hour counts, though the batch's newest verdict is hours later."""
    early = (an_hour_ago - timedelta(hours=3)).replace(microsecond=0)
    bounces(other_account, people(2, start=100), early)
    result = bounce_each(
        account,
        [(a, early + timedelta(minutes=10 + i)) for i, a in enumerate(people(4))]
        + [("late@gmail.test", an_hour_ago)],
    )
    assert result.accepted == 5
    surge = InvalidSurge.objects.get()
    assert surge.verdicts_at_opening == 6, "the other account's 2 and this batch's first 4"
    assert surge.window_start == early + timedelta(minutes=13) - timedelta(hours=1)
    assert blocked(account, [*people(4), "late@gmail.test"]) == set(), "the batch is held"


def test_a_new_surge_at_the_domain_holds_again_under_the_undecided_one(account, an_hour_ago):
    bounces(account, people(6), an_hour_ago - timedelta(hours=5))
    InvalidSurge.objects.update(hold_until=timezone.now() - timedelta(seconds=1))
    bounces(account, people(6, start=6), an_hour_ago)
    surge = InvalidSurge.objects.get()
    assert surge.hold_until > timezone.now() and surge.held == 12
    assert blocked(account, people(12)) == set()


def test_staff_judge_surges_in_the_admin(staff_client, account, an_hour_ago):
    bounces(account, people(6), an_hour_ago)
    surge = InvalidSurge.objects.get()
    page = staff_client.get(f"/admin/blocklist/invalidsurge/{surge.pk}/change/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "acme: 6" in body and "6 times: <code>" + OUTAGE in body
    assert 'name="_dismiss"' in body and 'name="_block_held"' in body

    listing = staff_client.get("/admin/blocklist/invalidsurge/")
    assert listing.status_code == 200 and "gmail.test" in listing.content.decode()
    assert 'alt="True"' in listing.content.decode(), "shown as holding now"

    asked = staff_client.post(
        "/admin/blocklist/invalidsurge/",
        {"action": "block_held", "_selected_action": [surge.pk]},
        follow=True,
    )
    question = asked.content.decode()
    assert "Block the held addresses? A decision is final." in question
    assert "gmail.test: 6 held verdict(s) for 6 address(es), from 1 account(s)." in question
    assert "6 address(es) will be blocked for every account for 180 days" in question
    assert blocked(account, people(6)) == set(), "nothing is decided on asking"
    response = answer_yes(staff_client, asked)
    assert "Blocked 6 address(es) held at gmail.test." in response.content.decode()
    assert blocked(account, people(6)) == set(people(6))

    asked = staff_client.post(
        "/admin/blocklist/invalidsurge/",
        {"action": "dismiss", "_selected_action": [surge.pk]},
        follow=True,
    )
    assert "gmail.test: decided already (Blocked: the addresses do not exist), left as it is." in (
        asked.content.decode()
    )
    again = answer_yes(staff_client, asked)
    assert again.status_code == 200
    assert blocked(account, people(6)) == set(people(6)), "a decided surge is not decided again"


def test_staff_decide_on_the_surges_own_page(staff_client, account, an_hour_ago):
    bounces(account, people(6), an_hour_ago)
    surge = InvalidSurge.objects.get()
    InvalidSurge.objects.filter(pk=surge.pk).update(held=99)  # as ingestion would, meanwhile
    url = f"/admin/blocklist/invalidsurge/{surge.pk}/change/"
    asked = staff_client.post(url, {"_dismiss": "Dismiss"}, follow=True)
    assert "the 6 held verdict(s) will never block, and 0 block(s)" in asked.content.decode()
    assert not InvalidSurge.objects.get().decision, "nothing is decided on asking"
    page = answer_yes(staff_client, asked)
    assert "Dismissed the surge at gmail.test" in page.content.decode()
    surge.refresh_from_db()
    assert surge.decision == InvalidSurge.Decision.DISMISSED and surge.decided_by
    assert surge.held == 99, "the page's save wrote nothing back"
    body = page.content.decode()
    assert 'name="_block_held"' not in body and "Dismissed: a fault at the receiver" in body

    again = answer_yes(staff_client, staff_client.post(url, {"_block_held": "Block"}))
    assert again.status_code == 200
    assert blocked(account, people(6)) == set(), "a decided surge is not decided again"


def test_through_the_api_the_answer_is_unchanged_and_the_check_says_not_blocked(
    api_client, account, an_hour_ago
):
    stamp = an_hour_ago.strftime("%Y-%m-%dT%H:%M:%SZ")
    requests = [
        make_event("request", f"api-{i}", to=a, timestamp=stamp) for i, a in enumerate(people(6))
    ]
    smtp = {"code": 550, "enhanced": "5.1.1", "text": OUTAGE}
    failures = [make_event("bounced", f"api-{i}", timestamp=stamp, smtp=smtp) for i in range(6)]
    r = api_client.post("/api/v1/events/", requests + failures, format="json")
    assert r.status_code == 200 and r.json()["accepted"] == 12 and r.json()["errors"] == []
    assert InvalidSurge.objects.get().held == 6

    r = api_client.post("/api/v1/blocklist/check/", {"addresses": people(6)}, format="json")
    assert [v["blocked"] for v in r.json()["results"]] == [False] * 6


def test_blocking_the_held_verdicts_leaves_alone_what_an_account_removed_before(
    account, an_hour_ago, staff, actor
):
    from blocklist import actions

    bounces(account, people(4), an_hour_ago)
    actions.remove_invalid_blocks(account, ["user0@gmail.test"], actor=actor, note="verified")
    bounces(account, people(2, start=4), an_hour_ago + timedelta(minutes=1))
    surge = InvalidSurge.objects.get()

    assert surges.block_held(surge.pk, actor=staff) == 2
    assert blocked(account, people(6)) == set(people(6)) - {"user0@gmail.test"}


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    batches=st.lists(
        st.lists(st.tuples(st.integers(0, 2), st.integers(0, 240)), min_size=1, max_size=8),
        min_size=1,
        max_size=6,
    )
)
def test_every_verdict_is_blocked_or_held_and_none_is_lost(account, other_account, staff, batches):
    start = timezone.now() - timedelta(hours=6)
    with transaction.atomic():
        cache.clear()  # each example is a new installation: no usual numbers yet
        n = itertools.count()
        sent: list[tuple[str, int]] = []  # (address, minute)
        senders: dict[str, set[int]] = {}  # domain → the accounts whose verdicts fell there
        owner: dict[str, int] = {}  # address → the account (0 or 1) that mailed it
        for i, batch in enumerate(batches):
            verdicts = [(f"p{next(n)}@dom{d}.test", minute) for d, minute in batch]
            bounce_each(
                (account, other_account)[i % 2],
                [(a, start + timedelta(minutes=m)) for a, m in verdicts],
            )
            sent += verdicts
            for a, _ in verdicts:
                senders.setdefault(a.partition("@")[2], set()).add(i % 2)
                owner[a] = i % 2
        addresses = [a for a, _ in sent]
        held = set(addresses) - blocked(account, addresses)
        opened = list(InvalidSurge.objects.all())

        # What is not blocked is held by a surge at its domain, and counted there.
        assert {a.partition("@")[2] for a in held} <= {s.domain for s in opened}
        assert sum(s.held for s in opened) == len(held)
        # A surge opens only where 5 verdicts (the test's limit) fell within one hour, and
        # (two accounts here) where both accounts' sending met them.
        for surge in opened:
            assert senders[surge.domain] == {0, 1}
            minutes = sorted(m for a, m in sent if a.endswith("@" + surge.domain))
            assert any(minutes[k + 4] - minutes[k] <= 60 for k in range(len(minutes) - 4))
        # The blocking query tells each account of its own held verdicts, and of no other's.
        for i, sender in enumerate((account, other_account)):
            found = surges.verdicts_held(sender, held)
            assert set(found) == {a for a in held if owner[a] == i}
            assert all(
                h.state == "holding" and a.endswith("@" + h.surge.domain) for a, h in found.items()
            )
        # Blocking what was held loses nothing: every verdict is then a block.
        for surge in opened:
            surges.block_held(surge.pk, actor=staff)
        assert blocked(account, addresses) == set(addresses)
        transaction.set_rollback(True)


def test_staff_are_asked_by_mail_when_a_surge_opens(
    account, an_hour_ago, staff_user, django_capture_on_commit_callbacks, mailoutbox, settings
):
    from blocklist import tasks
    from tests.factories import UserFactory

    staff_user.email = "ops@console.example"
    staff_user.save()
    UserFactory(username="gone", is_staff=True, is_active=False, email="gone@console.example")
    UserFactory(username="member", email="member@console.example")
    settings.SENDING_TRACKING_BASE_URL = "https://console.example/"

    with django_capture_on_commit_callbacks() as callbacks:
        bounces(account, people(6), an_hour_ago)
    surge = InvalidSurge.objects.get()
    assert len([c for c in callbacks if getattr(c, "func", None) is surges._ask_staff]) == 1

    assert tasks.tell_staff_of_surge(surge.pk) == 1
    [mail] = mailoutbox
    assert mail.to == ["ops@console.example"]
    assert mail.from_email == "SES Console <noreply@localhost>", "the default sender"
    assert mail.subject == "Invalid-address verdicts at gmail.test are held for your review"
    assert f"https://console.example/admin/blocklist/invalidsurge/{surge.pk}/change/" in mail.body
    assert "6 invalid-address verdicts at gmail.test" in mail.body

    with django_capture_on_commit_callbacks() as callbacks:
        bounces(account, people(3, start=6), an_hour_ago + timedelta(minutes=1))
    assert not [c for c in callbacks if getattr(c, "func", None) is surges._ask_staff], (
        "asked once per surge, not per batch it holds"
    )
    surges.dismiss(surge.pk, actor=Actor(staff_user, "staff:staff"))
    assert tasks.tell_staff_of_surge(surge.pk) == 0, "a decided surge asks nobody"


# --- a held verdict's message page says why no block was made ------------------------------


def note_on(client, account, address) -> str | None:
    """The surge note on the page of `account`'s message to `address` (its text, with
    spaces collapsed), or None."""
    message = Message.objects.get(account=account, recipient=address)
    page = client.get(reverse("delivery:message_detail", args=[message.message_id]))
    assert page.status_code == 200
    found = re.search(r'id="surge-held"><p>(.*?)</p>', page.content.decode(), re.S)
    return " ".join(found[1].split()) if found else None


def local(at, zone="UTC") -> str:
    return at.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M")


def holding_note(surge, zone="UTC") -> str:
    return (
        f"No block was made for this address: in the hour from "
        f'{local(surge.window_start, zone)}, "does not exist" replies from {surge.domain} '
        "came in far more often than usual, which is how a fault at the receiver looks. Staff are checking them; until "
        "they decide, this reply does not block the address. Replies like it from "
        f"{surge.domain} are held, not blocked, until {local(surge.hold_until, zone)} "
        "unless staff decide sooner."
    )


def test_a_held_verdicts_page_says_staff_are_checking(alice_client, account, an_hour_ago):
    account.time_zone = "America/Los_Angeles"
    account.save()
    bounces(account, people(6), an_hour_ago)
    surge = InvalidSurge.objects.get()
    note = note_on(alice_client, account, "user5@gmail.test")
    assert note == holding_note(surge, "America/Los_Angeles"), "in the account's time zone"


def test_a_dismissed_verdicts_page_says_staff_judged_it_a_fault_at_the_receiver(
    alice_client, account, an_hour_ago, staff
):
    bounces(account, people(6), an_hour_ago)
    surge = InvalidSurge.objects.get()
    surges.dismiss(surge.pk, actor=staff)
    assert note_on(alice_client, account, "user5@gmail.test") == (
        "No block was made for this address: in the hour from "
        f'{local(surge.window_start)}, "does not exist" replies from gmail.test came in far '
        "more often than usual, and staff judged them a fault at gmail.test, not addresses "
        "that are gone."
    )


def test_a_verdict_held_until_the_hold_ran_out_says_it_was_held(alice_client, account, an_hour_ago):
    bounces(account, people(6), an_hour_ago)
    InvalidSurge.objects.update(hold_until=timezone.now())  # just after the verdicts came
    surge = InvalidSurge.objects.get()
    note = note_on(alice_client, account, "user5@gmail.test")
    assert note.startswith(
        f"No block was made for this address: in the hour from {local(surge.window_start)}, "
        '"does not exist" replies from gmail.test came in'
    )
    assert f"held for staff to check rather than blocked, until {local(surge.hold_until)}." in (
        note
    )
    assert note.endswith("Staff have not decided on them yet.")


def test_a_verdict_staff_blocked_shows_the_block_then_says_it_was_removed(
    alice_client, account, an_hour_ago, staff, actor
):
    from blocklist import actions

    bounces(account, people(6), an_hour_ago)
    surges.block_held(InvalidSurge.objects.get().pk, actor=staff)
    message = Message.objects.get(account=account, recipient="user5@gmail.test")
    page = alice_client.get(reverse("delivery:message_detail", args=[message.message_id]))
    assert 'id="block-offer"' in page.content.decode(), "the block itself, as always"
    assert 'id="surge-held"' not in page.content.decode()

    actions.remove_invalid_blocks(account, ["user5@gmail.test"], actor=actor, note="verified")
    note = note_on(alice_client, account, "user5@gmail.test")
    assert "They judged the replies true and blocked this address" in note
    assert note.endswith("that block has since been removed or has run out.")


def test_a_verdict_the_surge_did_not_hold_gets_no_note(
    alice_client, account, an_hour_ago, staff, actor
):
    from blocklist import actions

    bounces(account, ["early@gmail.test"], an_hour_ago - timedelta(hours=2))
    for i, address in enumerate(people(4)):
        bounces(account, [address], an_hour_ago + timedelta(minutes=i))
    bounces(account, people(2, start=4), an_hour_ago + timedelta(minutes=5))
    bounces(account, ["other@example.org"], an_hour_ago + timedelta(minutes=6))
    surge = InvalidSurge.objects.get()
    surges.dismiss(surge.pk, actor=staff)  # lifts user0-3's blocks
    bounces(account, ["late@gmail.test"], an_hour_ago + timedelta(minutes=7))
    gone = ["early@gmail.test", "other@example.org", "late@gmail.test"]
    actions.remove_invalid_blocks(account, gone, actor=actor, note="verified")
    assert blocked(account, ["user0@gmail.test", *gone]) == set()

    assert note_on(alice_client, account, "user5@gmail.test"), "held: the note"
    assert note_on(alice_client, account, "user0@gmail.test") == (
        "The block made for this address was lifted: in the hour from "
        f'{local(surge.window_start)}, "does not exist" replies from gmail.test came in far '
        "more often than usual, and staff judged them a fault at gmail.test, not addresses "
        "that are gone."
    ), "in the window before the surge opened: lifted by the dismissal"
    assert note_on(alice_client, account, "early@gmail.test") is None, "before the window"
    assert note_on(alice_client, account, "other@example.org") is None, "another domain"
    assert note_on(alice_client, account, "late@gmail.test") is None, "after the decision"


def test_another_accounts_page_shows_the_surge_and_nothing_of_ours(
    alice_client, account, other_account, bob, an_hour_ago
):
    bounces(account, people(5), an_hour_ago)
    bounces(other_account, ["theirs@gmail.test"], an_hour_ago + timedelta(minutes=1))
    bounces(account, people(2, start=5), an_hour_ago + timedelta(minutes=2))
    surge = InvalidSurge.objects.get()
    assert surge.held == 3
    assert note_on(alice_client, account, "user6@gmail.test")

    bob_client = Client()
    bob_client.force_login(bob)
    # The domain, the times and the state: no counts, accounts, addresses or replies.
    assert note_on(bob_client, other_account, "theirs@gmail.test") == holding_note(surge)
    ours = Message.objects.get(account=account, recipient="user6@gmail.test")
    page = bob_client.get(reverse("delivery:message_detail", args=[ours.message_id]))
    assert page.status_code == 404 and b"gmail.test" not in page.content


def test_finding_the_surge_that_held_a_verdict_takes_one_query(
    account, an_hour_ago, django_assert_num_queries
):
    bounces(account, people(6), an_hour_ago)
    surge = InvalidSurge.objects.get()
    message = Message.objects.get(account=account, recipient="user5@gmail.test")
    events = list(DeliveryEvent.objects.filter(message=message))
    with django_assert_num_queries(1):  # the surge
        assert surges.surge_that_held(message, events) == surge
    with django_assert_num_queries(2):  # the message's invalid-address bounces, the surge
        assert surges.surge_that_held(message) == surge


# --- the blocking query says why a held verdict blocked nothing ----------------------------


def held_by_surge(client, addresses) -> dict:
    """The API's blocking query: address → its `held_by_surge` (None when absent)."""
    response = client.post("/api/v1/blocklist/check/", {"addresses": addresses}, format="json")
    assert response.status_code == 200
    return {r["address"]: r["held_by_surge"] for r in response.json()["results"]}


def query_note(client, address) -> str | None:
    """The surge note in the console's blocking query row of `address`, or None."""
    page = client.get(reverse("blocklist:overview"), {"q": address})
    assert page.status_code == 200
    row = re.search(
        rf'<tr data-address="{re.escape(address)}">(.*?)</tr>', page.content.decode(), re.S
    )
    found = re.search(r'<p class="notice surge-held">(.*?)</p>', row[1], re.S)
    return " ".join(re.sub(r"<[^>]+>", "", found[1]).split()) if found else None


def test_the_blocking_query_says_a_held_verdict_blocked_nothing(
    alice_client, api_client, account, an_hour_ago
):
    account.time_zone = "Asia/Shanghai"
    account.save()
    bounces(account, people(6), an_hour_ago)
    surge = InvalidSurge.objects.get()
    message = Message.objects.get(account=account, recipient="user5@gmail.test")

    [held] = held_by_surge(api_client, ["user5@gmail.test"]).values()
    assert held == {
        "domain": "gmail.test",
        "state": "holding",
        "surge_opened_at": surge.opened_at.isoformat().replace("+00:00", "Z"),
        "hold_until": surge.hold_until.isoformat().replace("+00:00", "Z"),
        "decided_at": None,
        "message_id": message.message_id,
        "bounced_at": an_hour_ago.replace(microsecond=0).isoformat().replace("+00:00", "Z"),
    }
    note = query_note(alice_client, "user5@gmail.test")
    assert note == (
        'Your mail to it bounced with a "does not exist" reply on '
        f"{local(an_hour_ago, 'Asia/Shanghai')}. " + holding_note(surge, "Asia/Shanghai")
    )
    page = alice_client.get(reverse("blocklist:overview"), {"q": "user5@gmail.test"})
    assert reverse("delivery:message_detail", args=[message.message_id]) in page.content.decode()


def test_the_blocking_query_names_each_state_of_a_held_verdict(
    api_client, account, an_hour_ago, staff, actor
):
    from blocklist import actions

    for i, address in enumerate(people(4)):
        bounces(account, [address], an_hour_ago + timedelta(minutes=i))
    bounces(account, people(2, start=4), an_hour_ago + timedelta(minutes=5))
    surge = InvalidSurge.objects.get()
    asked = ["user0@gmail.test", "user5@gmail.test", "first@elsewhere.test"]
    states = held_by_surge(api_client, asked)
    assert states["user0@gmail.test"] is None, "blocked: the block itself answers"
    assert states["user5@gmail.test"]["state"] == "holding"
    assert states["first@elsewhere.test"] is None, "blocked, and no surge there"

    InvalidSurge.objects.update(hold_until=timezone.now())
    assert held_by_surge(api_client, ["user5@gmail.test"])["user5@gmail.test"]["state"] == (
        "ran_out"
    )
    surges.dismiss(surge.pk, actor=staff)  # lifts user0-3's blocks
    states = held_by_surge(api_client, asked)
    assert states["user0@gmail.test"]["state"] == "lifted"
    assert states["user5@gmail.test"]["state"] == "dismissed"
    assert states["user5@gmail.test"]["decided_at"] is not None

    # A later verdict for the address, after the decision, blocks; once removed, the
    # address's story is that later bounce's, which nothing held.
    bounces(account, ["user5@gmail.test"], timezone.now() - timedelta(minutes=1))
    assert held_by_surge(api_client, ["user5@gmail.test"])["user5@gmail.test"] is None
    actions.remove_invalid_blocks(account, ["user5@gmail.test"], actor=actor, note="verified")
    assert held_by_surge(api_client, ["user5@gmail.test"])["user5@gmail.test"] is None


def test_a_verdict_staff_blocked_and_that_was_removed_says_so_in_the_blocking_query(
    api_client, account, an_hour_ago, staff, actor
):
    from blocklist import actions

    bounces(account, people(6), an_hour_ago)
    surges.block_held(InvalidSurge.objects.get().pk, actor=staff)
    assert held_by_surge(api_client, ["user5@gmail.test"])["user5@gmail.test"] is None
    actions.remove_invalid_blocks(account, ["user5@gmail.test"], actor=actor, note="verified")
    assert held_by_surge(api_client, ["user5@gmail.test"])["user5@gmail.test"]["state"] == (
        "blocked"
    )


def test_the_blocking_query_tells_only_the_account_whose_mail_was_held(
    api_client, other_api_client, bob, account, other_account, an_hour_ago
):
    bounces(account, people(5), an_hour_ago)
    bounces(other_account, ["theirs@gmail.test"], an_hour_ago + timedelta(minutes=1))
    bounces(account, people(2, start=5), an_hour_ago + timedelta(minutes=2))
    ours = Message.objects.get(account=account, recipient="user6@gmail.test")
    assert held_by_surge(api_client, ["user6@gmail.test"])["user6@gmail.test"]["message_id"] == (
        ours.message_id
    )
    # Another account asking about our recipient learns nothing of our mail; of its own
    # held verdict it learns its own message.
    theirs = Message.objects.get(account=other_account, recipient="theirs@gmail.test")
    asked = held_by_surge(other_api_client, ["user6@gmail.test", "theirs@gmail.test"])
    assert asked["user6@gmail.test"] is None
    assert asked["theirs@gmail.test"]["message_id"] == theirs.message_id
    bob_client = Client()
    bob_client.force_login(bob)
    assert query_note(bob_client, "user6@gmail.test") is None
    assert (
        ours.message_id
        not in bob_client.get(
            reverse("blocklist:overview"), {"q": "user6@gmail.test\ntheirs@gmail.test"}
        ).content.decode()
    )


def test_the_blocking_query_asks_one_query_more_and_a_second_only_where_surges_were(
    account, an_hour_ago, django_assert_num_queries
):
    bounces(account, people(6), an_hour_ago)
    with django_assert_num_queries(1):  # the surges at the addresses' domains: none
        assert surges.verdicts_held(account, ["a@example.org", "b@example.net"]) == {}
    with django_assert_num_queries(2):  # the surges, then the account's verdicts there
        held = surges.verdicts_held(account, ["user5@gmail.test", "nobody@gmail.test"])
    assert list(held) == ["user5@gmail.test"]
    # A surge whose hold ended longer ago than a block lasts is not asked about.
    InvalidSurge.objects.update(hold_until=timezone.now() - timedelta(days=INVALID_BLOCK_DAYS + 1))
    with django_assert_num_queries(1):
        assert surges.verdicts_held(account, ["user5@gmail.test"]) == {}


def test_the_bounced_report_marks_the_rows_a_surge_held(alice_client, account, an_hour_ago, staff):
    bounces(account, ["early@gmail.test"], an_hour_ago - timedelta(hours=2))
    for i, address in enumerate(people(4)):
        bounces(account, [address], an_hour_ago + timedelta(minutes=i))
    bounces(account, people(2, start=4), an_hour_ago + timedelta(minutes=5))
    day = an_hour_ago.date()
    query = {
        "start": (day - timedelta(days=1)).isoformat(),
        "end": (day + timedelta(days=1)).isoformat(),
    }

    def badges() -> dict[str, str]:
        page = alice_client.get("/bounced/", query).content.decode()
        rows = re.findall(r"<tr>(.*?)</tr>", page, re.S)
        found = {}
        for row in rows:
            recipient = re.search(r">([^<>]+@[^<>]+)</a>", row)
            badge = re.search(r'<a class="badge held"[^>]*>(.*?)</a>', row)
            if recipient and badge:
                found[recipient[1]] = badge[1]
        return found

    assert badges() == {a: "not blocked: surge at gmail.test" for a in people(2, start=4)}
    surges.dismiss(InvalidSurge.objects.get().pk, actor=staff)  # lifts user0-3's blocks
    assert badges() == {
        **{a: "block lifted: surge at gmail.test" for a in people(4)},
        **{a: "not blocked: surge at gmail.test" for a in people(2, start=4)},
    }, "early@ blocked before the window: no badge, its block stands"
