from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.urls import reverse

from stats.promotion import choose_tracked_domains

pytestmark = pytest.mark.django_db


def test_staff_see_rollups_read_only(staff_client, account, scenario):
    # Domains have rows of their own once tracked (here from before the scenario's days).
    choose_tracked_domains(account, now=datetime(2026, 11, 20, tzinfo=UTC))
    url = reverse("admin:stats_rollup_changelist")
    response = staff_client.get(url, {"size__exact": "60"})
    assert response.status_code == 200
    assert "mail.example.com" in response.content.decode()
    assert staff_client.get(reverse("admin:stats_rollup_add")).status_code == 403


def test_staff_see_tracked_domains_read_only(staff_client, account, scenario):
    choose_tracked_domains(account, now=datetime(2026, 11, 20, tzinfo=UTC))
    url = reverse("admin:stats_trackeddomain_changelist")
    response = staff_client.get(url)
    assert response.status_code == 200
    assert "gmail.com" in response.content.decode()
    assert staff_client.get(reverse("admin:stats_trackeddomain_add")).status_code == 403
