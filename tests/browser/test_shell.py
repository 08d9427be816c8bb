"""The console shell in a real browser."""

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_customer_signs_in_and_moves_through_the_navigation(page, login, alice):
    login(alice)
    page.get_by_role("link", name="Email status").click()
    assert page.get_by_role("link", name="Email status").get_attribute("aria-current") == "page"
    page.get_by_role("button", name="Sign out alice").click()
    page.wait_for_url("**/login/")


def test_a_wrong_password_is_explained(page, alice):
    page.goto("/login/")
    page.fill("#id_username", "alice")
    page.fill("#id_password", "wrong")
    page.click("button[type=submit]")
    assert "didn't match" in page.get_by_role("alert").inner_text()
