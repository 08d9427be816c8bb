"""Bad input shows the form with one message per problem, in the page's own words, and
no figures: never the figures of some other filter. The API keeps parameter names."""

from __future__ import annotations

import pytest
import time_machine

from blocklist.models import Block
from delivery.ingest import ingest_events
from stats.views import _tiles
from tests.blocklist.conftest import bounce, recipient_event
from tests.events import make_event

pytestmark = pytest.mark.django_db

NOW = "2026-11-28T13:00:00Z"


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"range": "custom", "start": "garbage", "end": "2026-11-28"}, "Enter a valid date."),
        ({"range": "forever"}, "Select a valid choice."),
        ({"sender_domain": "nowhere.example"}, "No mail from nowhere.example in the last 90"),
        ({"range": "custom", "start": "2026-11-28", "end": "2026-11-27"}, "“To” must not be"),
    ],
)
def test_the_queue_page_shows_no_figures_for_a_bad_filter(alice_client, scenario, params, message):
    response = alice_client.get("/queue/", params)
    html = response.content.decode()
    assert response.status_code == 400
    assert message in html and html.count(message) == 1
    assert "tiles" not in response.context and 'id="queue-chart"' not in html
    assert 'id="queue-invalid"' in html
    # the parts that were valid stay in the form
    for value in params.values():
        if value not in ("garbage", "forever", "nowhere.example"):
            assert f'value="{value}"' in html
    for extra in ({"format": "json"}, {"export": "csv"}):
        bad = alice_client.get("/queue/", {**params, **extra})
        assert bad.status_code == 400
        assert bad.json()["code"] == "invalid_filter"


@time_machine.travel(NOW, tick=False)
def test_a_valid_sender_domain_is_kept_beside_a_bad_date(alice_client, scenario):
    html = alice_client.get(
        "/queue/",
        {"range": "custom", "start": "x", "end": "2026-11-28", "sender_domain": "mail.example.com"},
    ).content.decode()
    assert 'name="sender_domain" value="mail.example.com"' in html


def test_garbage_dates_on_the_reject_list_list_nothing(alice_client, account):
    recipient_event(account, "quit@example.com", "unsubscribed")
    assert Block.objects.rejects().count() == 1
    assert len(alice_client.get("/blocklist/rejects/").context["page"].object_list) == 1
    response = alice_client.get("/blocklist/rejects/", {"start": "garbage", "end": "2026-13-45"})
    html = response.content.decode()
    assert len(response.context["page"].object_list) == 0
    assert "quit@example.com" not in html
    assert html.count("Enter a valid date.") == 2  # one per field, each beside its field
    assert "Nothing is listed until the filter is corrected." in html
    assert "Nothing matched" not in html


def test_an_end_before_the_start_on_the_trigger_list_is_an_error(alice_client, api_client, account):
    bounce(account, "gone@example.com")
    response = alice_client.get(
        "/blocklist/invalid/mine/", {"start": "2026-11-28", "end": "2026-11-27"}
    )
    html = response.content.decode()
    assert html.count("“Blocked until” must not be before “Blocked from”.") == 1
    assert len(response.context["page"].object_list) == 0
    api = api_client.get("/api/v1/blocklist/invalid/", {"start": "2026-11-28", "end": "2026-11-27"})
    assert api.status_code == 400
    assert "'end' must not be before 'start'." in str(api.json())


def test_history_refuses_an_end_before_the_start(alice_client, account):
    response = alice_client.get("/blocklist/history/", {"start": "2026-11-28", "end": "2026-11-01"})
    assert "“Until” must not be before “From”." in response.content.decode()


def test_email_status_says_each_problem_once_with_the_page_labels(alice_client, scenario):
    html = alice_client.get(
        "/messages/", {"start": "2026-11-28", "end": "2026-11-27"}
    ).content.decode()
    assert html.count("“To” must not be before “From”.") == 1
    assert "'end'" not in html
    html = alice_client.get("/messages/", {"start": "x", "end": "y"}).content.decode()
    assert html.count("Enter a valid date.") == 2  # From and To, each beside its field
    assert "; Enter a valid date." not in html


def test_report_pages_say_each_problem_once(alice_client, scenario):
    html = alice_client.get("/bounced/", {"start": "2026-11-28", "end": "2026-11-27"}).content
    assert html.decode().count("“To” must not be before “From”.") == 1


def test_the_api_keeps_parameter_names(api_client, scenario):
    body = api_client.get("/api/v1/messages/", {"start": "2026-11-28", "end": "2026-11-27"}).json()
    assert "'end' must not be before 'start'." in str(body)


@pytest.mark.parametrize(
    ("sent", "delivered", "text"),
    [
        (12, 13, "108.3% of the 12 sent in this range, with mail sent earlier"),
        (10, 9, "90.0% of the 10 sent in this range"),
        (0, 3, "none sent in this range"),
    ],
)
def test_rates_say_what_they_are_measured_against(sent, delivered, text):
    totals = {
        "requests": sent,
        "delivered": delivered,
        "bounced": 0,
        "rejected": 0,
        "deferred": 0,
        "opened_unique": 0,
    }
    tile = next(t for t in _tiles(totals) if t["key"] == "delivered")
    assert tile["rate"] == text
    assert "of sent" not in " ".join(t["rate"] for t in _tiles(totals))


@time_machine.travel("2026-11-28T09:30:00Z", tick=False)
def test_the_last_hour_says_deliveries_of_earlier_mail_are_in_it(alice_client, account):
    """Sent at 08:20, delivered at 08:40; one more sent and delivered at 09:00."""
    ingest_events(
        account,
        [
            make_event("request", "early", timestamp="2026-11-28T08:20:00Z", to="a@x.org"),
            make_event("delivered", "early", timestamp="2026-11-28T08:40:00Z"),
            make_event("request", "late", timestamp="2026-11-28T09:00:00Z", to="b@x.org"),
            make_event("delivered", "late", timestamp="2026-11-28T09:00:30Z"),
        ],
    )
    tiles = alice_client.get("/queue/", {"range": "1h", "format": "json"}).json()["tiles"]
    delivered = next(t for t in tiles if t["key"] == "delivered")
    assert delivered["value"] == 2
    assert delivered["rate"] == "200.0% of the 1 sent in this range, with mail sent earlier"


@pytest.mark.parametrize(
    "url", ["/bounced/", "/open-click/", "/spam-reports/", "/unsubscriptions/"]
)
@pytest.mark.parametrize(
    ("name", "day"), [("sent_start", "0001-01-01"), ("sent_end", "9999-12-31")]
)
def test_report_pages_refuse_a_sending_day_out_of_range(alice_client, account, url, name, day):
    # East of UTC: the local midnight of 0001-01-01 lies before the first year datetime holds.
    account.time_zone = "Asia/Shanghai"
    account.save()
    response = alice_client.get(url, {"start": "2026-11-20", "end": "2026-11-28", name: day})
    html = response.content.decode()
    assert response.status_code == 400
    assert html.count("Enter a date between 1970-01-02 and 9999-12-30.") == 1
    assert f'id="id_{name}_error"' in html  # beside its own field
    assert 'id="events-table"' not in html


@pytest.mark.parametrize(
    "url", ["/bounced/", "/open-click/", "/spam-reports/", "/unsubscriptions/"]
)
def test_report_pages_refuse_a_reversed_sending_range(alice_client, scenario, url):
    response = alice_client.get(
        url,
        {
            "start": "2026-11-27",
            "end": "2026-11-28",
            "sent_start": "2026-11-28",
            "sent_end": "2026-11-27",
        },
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert html.count("“Sent to” must not be before “Sent from”.") == 1
    assert 'id="id_sent_end_error"' in html
    assert 'id="events-table"' not in html


def test_a_one_day_sending_range_lists_that_days_mail(alice_client, scenario):
    days = {"start": "2026-11-27", "end": "2026-11-28"}
    one_day = {**days, "sent_start": "2026-11-28", "sent_end": "2026-11-28"}
    every = alice_client.get("/bounced/", days).context["rows"]
    rows = alice_client.get("/bounced/", one_day).context["rows"]
    assert rows and rows == [r for r in every if r["sent"].startswith("2026-11-28")]
