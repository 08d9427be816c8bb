import re

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from sesconsole.models import Account

pytestmark = pytest.mark.django_db


def test_it_creates_an_account_a_user_and_a_working_key(capsys):
    call_command("create_account", "acme", user="alice", password="s3cret-pass")
    out = capsys.readouterr().out
    match = re.search(r"^API key: (\S+)$", out, re.M)
    assert match, out
    account = Account.objects.get(name="acme")
    user = get_user_model().objects.get(username="alice")
    assert user.check_password("s3cret-pass")
    assert account.memberships.get().user == user
    assert account.api_keys.get().key_hash != match.group(1)  # only the hash is stored

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {match.group(1)}")
    assert client.post("/api/v1/events/", [], format="json").status_code == 200


def test_it_refuses_a_taken_or_bad_name(account):
    with pytest.raises(CommandError, match="already exists"):
        call_command("create_account", "acme")
    with pytest.raises(CommandError, match="name"):
        call_command("create_account", "Not A Slug")
