"""Login lockout (django-axes): per username and per address, console and admin alike."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

LIMIT = 10  # LOGIN_FAILURE_LIMIT's default


def sign_in(username: str, password: str, address: str = "203.0.113.7", url: str = "/login/"):
    client = Client(REMOTE_ADDR=address)
    return client.post(url, {"username": username, "password": password})


def signed_in(response) -> bool:
    return response.status_code == 302 and "/login/" not in response["Location"]


def fail(username: str, times: int, address: str = "203.0.113.7", url: str = "/login/"):
    """`times` wrong passwords: the form again, with its error, until the limit is reached;
    the attempt that reaches it gets the lockout page."""
    limit = settings.AXES_FAILURE_LIMIT
    for n in range(1, times + 1):
        response = sign_in(username, "wrong", address, url)
        assert response.status_code == (429 if n >= limit else 200), n


@pytest.fixture
def carol(db):
    return UserFactory(username="carol")


def test_wrong_passwords_lock_the_user_out_even_with_the_right_one(alice):
    fail("alice", LIMIT)
    response = sign_in("alice", "password")
    assert response.status_code == 429
    assert int(response["Retry-After"]) == 15 * 60
    page = response.content.decode()
    assert "Sign-in locked" in page
    assert "after 10 failed attempts" in page
    assert "15 minutes" in page


def test_the_lock_holds_per_username_from_any_address(alice):
    fail("alice", LIMIT, address="203.0.113.7")
    assert sign_in("alice", "password", address="198.51.100.9").status_code == 429


def test_the_lock_holds_per_address_for_any_username(alice, carol):
    fail("alice", LIMIT, address="203.0.113.7")
    assert sign_in("carol", "password", address="203.0.113.7").status_code == 429


def test_another_user_from_another_address_is_unaffected(alice, carol):
    fail("alice", LIMIT, address="203.0.113.7")
    assert signed_in(sign_in("carol", "password", address="198.51.100.9"))


def test_a_successful_sign_in_resets_the_count(alice):
    fail("alice", LIMIT - 1)
    assert signed_in(sign_in("alice", "password"))
    fail("alice", LIMIT - 1)
    assert signed_in(sign_in("alice", "password"))


def test_the_limit_and_cool_off_are_settable(settings, alice):
    settings.AXES_FAILURE_LIMIT = 3
    settings.AXES_COOLOFF_TIME = 2 / 60
    fail("alice", 3)
    response = sign_in("alice", "password")
    assert response.status_code == 429
    assert response["Retry-After"] == "120"
    assert "2 minutes" in response.content.decode()


def test_the_admin_sign_in_is_covered_too(staff_user):
    fail("staff", LIMIT, url="/admin/login/")
    response = sign_in("staff", "password", url="/admin/login/?next=/admin/")
    assert response.status_code == 429
    # ...and the lock is the same as the console's.
    assert sign_in("staff", "password").status_code == 429
