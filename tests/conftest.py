"""Fixtures: the cast, Alice of acme and Bob of globex, who must never see each other's data."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from sesconsole.models import ApiKey
from tests.factories import AccountFactory, MembershipFactory, UserFactory


@pytest.fixture
def account(db):
    return AccountFactory(name="acme", display_name="Acme Shop")


@pytest.fixture
def other_account(db):
    return AccountFactory(name="globex", display_name="Globex")


@pytest.fixture
def alice(account):
    user = UserFactory(username="alice")
    MembershipFactory(account=account, user=user)
    return user


@pytest.fixture
def bob(other_account):
    user = UserFactory(username="bob")
    MembershipFactory(account=other_account, user=user)
    return user


@pytest.fixture
def staff_user(db):
    return UserFactory(username="staff", is_staff=True, is_superuser=True)


@pytest.fixture
def api_key(account) -> str:
    return ApiKey.issue(account, name="test")[1]


@pytest.fixture
def other_api_key(other_account) -> str:
    return ApiKey.issue(other_account, name="test")[1]


@pytest.fixture
def api_client(api_key) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key}")
    return client


@pytest.fixture
def other_api_client(other_api_key) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {other_api_key}")
    return client


@pytest.fixture
def alice_client(client, alice):
    client.force_login(alice)
    return client


@pytest.fixture
def staff_client(client, staff_user):
    client.force_login(staff_user)
    return client
