"""An upload over the byte cap: the page says so, nothing is added."""

from __future__ import annotations

import pytest

from blocklist.models import Block

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_oversized_upload_is_refused_with_its_reason(
    page, login, alice, account, tmp_path, settings
):
    settings.BLOCKLIST_UPLOAD_MAX_BYTES = 1000
    path = tmp_path / "list.csv"
    path.write_bytes(b"a@example.com\n" * 500)
    login(alice)
    page.goto("/blocklist/custom/upload/")
    page.get_by_label("File", exact=True).set_input_files(str(path))
    page.get_by_role("button", name="Upload").click()
    page.get_by_text("The file is larger than 1,000 bytes; split it.").wait_for()
    assert page.locator("#upload-bar").get_attribute("value") == "0"
    assert not Block.objects.exists()
