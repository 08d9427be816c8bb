"""Console pages and the admin."""

from __future__ import annotations

import pytest
from django.urls import reverse

from delivery.ingest import ingest_events
from notifications import outbox
from notifications.models import Endpoint, Notification
from tests.events import make_event

pytestmark = pytest.mark.django_db


def test_creating_an_endpoint_shows_its_secret_once(alice_client, receiver):
    response = alice_client.post(
        reverse("notifications:endpoints"),
        {"url": receiver.url, "events": ["bounce", "click"], "batch_size": "1"},
    )
    endpoint = Endpoint.objects.get()
    assert endpoint.events == ["bounce", "click"]
    assert endpoint.secret.encode() in response.content
    page = alice_client.get(reverse("notifications:endpoint", args=[endpoint.pk]))
    assert endpoint.secret.encode() not in page.content


def test_a_bad_url_is_explained(alice_client, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_NETWORKS = False
    response = alice_client.post(
        reverse("notifications:endpoints"), {"url": "http://10.0.0.1/"}, follow=True
    )
    assert b"not a public internet address" in response.content
    assert not Endpoint.objects.exists()


def test_the_page_shows_attempts_and_counters(alice_client, account, endpoint, receiver):
    receiver.failures_left = 1
    ingest_events(account, [make_event("request", "m1"), make_event("delivered", "m1")])
    outbox.deliver_due(endpoint.pk)
    Notification.objects.update(status="failed")
    outbox.redeliver(endpoint, ids=Notification.objects.values_list("pk", flat=True))
    Endpoint.objects.update(paused_until=None)
    outbox.deliver_due(endpoint.pk)
    page = alice_client.get(reverse("notifications:endpoint", args=[endpoint.pk]))
    content = page.content.decode()
    assert "try again later" in content and "Next retry" in content
    assert "Failing since" not in content  # it recovered
    assert '<dd id="delivered-count">1</dd>' in content
    listing = alice_client.get(reverse("notifications:endpoints")).content.decode()
    assert receiver.url in listing


def test_buttons_queue_a_test_and_redeliveries(alice_client, endpoint):
    alice_client.post(reverse("notifications:test", args=[endpoint.pk]))
    notification = Notification.objects.get()
    assert notification.event is None
    outbox.deliver_due(endpoint.pk)
    alice_client.post(
        reverse("notifications:redeliver", args=[endpoint.pk]), {"notification": notification.pk}
    )
    assert Notification.objects.get().status == "pending"
    response = alice_client.post(
        reverse("notifications:redeliver", args=[endpoint.pk]),
        {"start": "x", "end": ""},
        follow=True,
    )
    assert b"Give a start and an end time" in response.content


def test_rotate_toggle_delete(alice_client, endpoint):
    old = endpoint.secret
    response = alice_client.post(reverse("notifications:rotate", args=[endpoint.pk]))
    endpoint.refresh_from_db()
    assert endpoint.secret != old and endpoint.secret.encode() in response.content
    alice_client.post(reverse("notifications:toggle", args=[endpoint.pk]))
    endpoint.refresh_from_db()
    assert not endpoint.enabled
    alice_client.post(reverse("notifications:delete", args=[endpoint.pk]))
    assert not Endpoint.objects.exists()


def test_another_accounts_member_gets_404(client, bob, endpoint):
    client.force_login(bob)
    assert client.get(reverse("notifications:endpoint", args=[endpoint.pk])).status_code == 404
    for name in ("test", "rotate", "toggle", "delete", "redeliver"):
        assert client.post(reverse(f"notifications:{name}", args=[endpoint.pk])).status_code == 404
    assert endpoint.url.encode() not in client.get(reverse("notifications:endpoints")).content
    assert Endpoint.objects.get().enabled


def test_the_nav_links_the_page(alice_client):
    page = alice_client.get(reverse("notifications:endpoints"))
    assert b'aria-current="page">Event notifications</a>' in page.content


def test_admin_lists_endpoints_and_disables_them(staff_client, endpoint):
    url = reverse("admin:notifications_endpoint_changelist")
    page = staff_client.get(url)
    assert page.status_code == 200 and endpoint.url.encode() in page.content
    response = staff_client.post(
        url, {"action": "disable", "_selected_action": [endpoint.pk]}, follow=True
    )
    assert b"Disabled 1 endpoint(s)" in response.content
    endpoint.refresh_from_db()
    assert not endpoint.enabled
    for model in ("notification", "attempt"):
        assert (
            staff_client.get(reverse(f"admin:notifications_{model}_changelist")).status_code == 200
        )


def test_a_failing_endpoint_says_when_it_is_tried_next(alice_client, account, endpoint, receiver):
    receiver.status = 502
    ingest_events(account, [make_event("request", "m1"), make_event("delivered", "m1")])
    outbox.deliver_due(endpoint.pk)
    content = alice_client.get(reverse("notifications:endpoint", args=[endpoint.pk])).content
    assert b"Failing since" in content and b"next after" in content
