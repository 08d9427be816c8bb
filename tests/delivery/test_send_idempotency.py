"""Sending never doubles a mail: Idempotency-Key, an unreachable broker, a lost worker."""

from __future__ import annotations

from datetime import timedelta
from functools import partial

import pytest
import time_machine
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from delivery import sending
from delivery.idempotency import prune
from delivery.models import IdempotentRequest, OutboundEmail, OutboundRecipient
from delivery.sending import add_sender_identity
from sesconsole.celery import app
from tests.concurrency import run_together
from tests.conftest import _reset_broker_pool

URL = "/api/v1/emails/"


def _body(**fields) -> dict:
    return {
        "from": "news@mail.acme.example",
        "to": ["alice@gmail.com"],
        "subject": "November news",
        "text": "Hello",
        **fields,
    }


@pytest.fixture
def sender(account):
    add_sender_identity(account, "mail.acme.example", verified=True)


@pytest.mark.django_db
def test_the_same_key_and_body_get_the_same_answer_and_one_mail(api_client, sender):
    first = api_client.post(URL, _body(), format="json", HTTP_IDEMPOTENCY_KEY="order-17")
    again = api_client.post(URL, _body(), format="json", HTTP_IDEMPOTENCY_KEY="order-17")
    assert first.status_code == again.status_code == 202
    assert again.json() == first.json()
    assert OutboundEmail.objects.count() == 1
    assert OutboundRecipient.objects.count() == 1


@pytest.mark.django_db
def test_the_same_key_with_another_body_is_refused(api_client, sender):
    api_client.post(URL, _body(), format="json", HTTP_IDEMPOTENCY_KEY="order-17")
    response = api_client.post(
        URL, _body(subject="Other"), format="json", HTTP_IDEMPOTENCY_KEY="order-17"
    )
    assert response.status_code == 409
    assert response.json()["code"] == "idempotency_key_reused"
    assert OutboundEmail.objects.count() == 1


@pytest.mark.django_db
def test_keys_are_per_account_and_expire_after_a_day(api_client, other_api_client, sender):
    api_client.post(URL, _body(), format="json", HTTP_IDEMPOTENCY_KEY="k")
    with time_machine.travel(timezone.now() + timedelta(hours=25)):
        response = api_client.post(URL, _body(), format="json", HTTP_IDEMPOTENCY_KEY="k")
        assert response.status_code == 202
        assert OutboundEmail.objects.count() == 2
        assert prune() == 0  # the expired row was replaced, not kept
    assert IdempotentRequest.objects.count() == 1


@pytest.mark.django_db
def test_a_refused_request_does_not_burn_its_key(api_client, sender):
    bad = api_client.post(URL, _body(to=[]), format="json", HTTP_IDEMPOTENCY_KEY="k2")
    assert bad.status_code == 400
    good = api_client.post(URL, _body(to=[]), format="json", HTTP_IDEMPOTENCY_KEY="k2")
    assert good.status_code == 400
    assert IdempotentRequest.objects.count() == 0


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent writers")
def test_two_concurrent_requests_with_one_key_send_once(account, api_key, sender):
    clients = [APIClient(), APIClient()]
    for c in clients:
        c.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key}")
    answers = run_together(
        *(
            partial(c.post, URL, _body(), format="json", HTTP_IDEMPOTENCY_KEY="race")
            for c in clients
        )
    )
    assert [a.status_code for a in answers] == [202, 202]
    assert answers[0].json() == answers[1].json()
    assert OutboundEmail.objects.count() == 1


@pytest.fixture
def broker_down(settings):
    """Point Celery at a port where no broker listens."""
    app.conf.broker_url = "redis://127.0.0.1:9/0"
    _reset_broker_pool(app)
    yield
    app.conf.broker_url = settings.CELERY_BROKER_URL
    _reset_broker_pool(app)


@pytest.mark.django_db
def test_with_the_broker_down_the_mail_is_accepted_and_resumed_later(
    api_client, sender, broker_down, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.post(URL, _body(), format="json")
    assert response.status_code == 202
    row = OutboundRecipient.objects.get()
    assert row.state == OutboundRecipient.State.QUEUED
    with time_machine.travel(timezone.now() + timedelta(minutes=11)):
        assert sending.resume_stalled() == [row.pk]


@pytest.mark.django_db
def test_an_overdue_attempt_is_shown_as_stalled(api_client, sender, broker_down):
    email_id = api_client.post(URL, _body(), format="json").json()["id"]
    recipient = api_client.get(f"{URL}{email_id}/").json()["recipients"][0]
    assert recipient["stalled"] is False
    assert recipient["next_attempt_at"]
    with time_machine.travel(timezone.now() + timedelta(minutes=3)):
        recipient = api_client.get(f"{URL}{email_id}/").json()["recipients"][0]
    assert recipient["stalled"] is True
