from __future__ import annotations

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_staff_see_rollups_read_only(staff_client, scenario):
    url = reverse("admin:stats_rollup_changelist")
    response = staff_client.get(url, {"size__exact": "60"})
    assert response.status_code == 200
    assert "mail.example.com" in response.content.decode()
    assert staff_client.get(reverse("admin:stats_rollup_add")).status_code == 403
