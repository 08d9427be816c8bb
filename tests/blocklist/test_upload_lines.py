"""Upload reports name file lines; adding by hand names the addresses that failed."""

from __future__ import annotations

import pytest
from django.urls import reverse

from blocklist import custom, upload

pytestmark = pytest.mark.django_db


def test_read_upload_counts_header_and_blank_lines():
    data = b'\xef\xbb\xbfaddress,note\r\n\r\na@example.com,"two\nlines"\r\n\r\nb@example.com\r\n'
    assert upload.read_upload(data) == [(3, "a@example.com"), (6, "b@example.com")]


def test_a_second_header_like_line_is_an_address_problem_not_skipped():
    lines = upload.read_upload(b"email\nemail\nx@example.com\n")
    assert lines == [(2, "email"), (3, "x@example.com")]


def test_upload_problems_carry_file_line_numbers(account, actor):
    custom.add_custom_blocks(account, ["old@example.com"], actor=actor)
    data = (
        b"email\n"  # 1
        b"\n"  # 2
        b"new@example.com\n"  # 3
        b"not-an-address\n"  # 4
        b"\n"  # 5
        b"old@example.com\n"  # 6
        b"NEW@example.com\n"  # 7
    )
    report = custom.upload_custom_blocks(account, data, actor=actor)
    assert report.valid == 1
    assert [(p["line"], p["kind"]) for p in report.problems] == [
        (4, "invalid"),
        (6, "repeat"),
        (7, "repeat"),
    ]
    already = next(p for p in report.problems if p["line"] == 6)
    assert already["message"] == "Already blocked."


def test_the_upload_page_shows_the_line_of_an_already_blocked_address(alice_client, account, actor):
    from django.core.files.uploadedfile import SimpleUploadedFile

    custom.add_custom_blocks(account, ["old@example.com"], actor=actor)
    file = SimpleUploadedFile("list.csv", b"email\n\nold@example.com\n", "text/csv")
    r = alice_client.post(reverse("blocklist:custom_upload"), {"file": file})
    assert r.status_code == 200
    assert "Line 3: <code>old@example.com</code> — Already blocked." in r.content.decode()


def test_adding_by_hand_names_the_addresses_that_failed(alice_client, account, actor):
    custom.add_custom_blocks(account, ["old@example.com"], actor=actor)
    r = alice_client.post(
        reverse("blocklist:custom_add"),
        {"addresses": "ok@example.com\n\nbroken\nold@example.com\n"},
        follow=True,
    )
    html = r.content.decode()
    assert "Added 1 of 3" in html
    assert "Line 3: broken" in html
    assert "Line 4: old@example.com — Already blocked." in html
