import pytest
from django.urls import reverse

from sesconsole.models import ApiKey
from tests.factories import MessageFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "name",
    [
        "admin:sesconsole_account_changelist",
        "admin:sesconsole_apikey_changelist",
        "admin:delivery_message_changelist",
        "admin:delivery_deliveryevent_changelist",
    ],
)
def test_changelists_render(admin_client, account, name):
    MessageFactory(account=account, subject="<script>alert(1)</script>")
    response = admin_client.get(reverse(name))
    assert response.status_code == 200
    assert b"<script>alert(1)</script>" not in response.content


def test_revoke_action(admin_client, account):
    key, _ = ApiKey.issue(account)
    response = admin_client.post(
        reverse("admin:sesconsole_apikey_changelist"),
        {"action": "revoke", "_selected_action": [key.pk]},
        follow=True,
    )
    key.refresh_from_db()
    assert not key.is_active
    assert "Revoked 1 key(s)." in response.content.decode()
