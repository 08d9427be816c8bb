"""Uploads are capped in bytes and lines, and parsed as a stream, never read whole."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from blocklist import custom
from blocklist.errors import BlocklistError
from blocklist.models import Block
from blocklist.upload import MAX_UPLOAD_LINES, read_upload

pytestmark = pytest.mark.django_db


class ChunksOnly(io.RawIOBase):
    """A file that refuses to be read whole: only `read(n)` with a size works."""

    def __init__(self, data: bytes):
        self._data = io.BytesIO(data)
        self.largest_read = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            raise AssertionError("the whole file was read at once")
        self.largest_read = max(self.largest_read, size)
        return self._data.read(size)


def _addresses(n: int) -> bytes:
    return "".join(f"user{i}@example.com\n" for i in range(n)).encode()


def test_the_file_is_parsed_in_chunks(settings):
    settings.BLOCKLIST_UPLOAD_MAX_BYTES = 10 * 1024 * 1024
    file = ChunksOnly(b"\xef\xbb\xbfemail\n" + _addresses(50_000))
    lines = read_upload(file)
    assert len(lines) == 50_000 and lines[0].value == "user0@example.com"
    assert file.largest_read <= 64 * 1024


def test_a_stream_past_the_byte_cap_is_refused(settings):
    settings.BLOCKLIST_UPLOAD_MAX_BYTES = 1000
    file = ChunksOnly(_addresses(200))  # no size known up front: the reader counts
    with pytest.raises(BlocklistError) as exc:
        read_upload(file)
    assert exc.value.code == "file_too_large" and exc.value.status == 413
    assert "1,000 bytes" in exc.value.message


def test_more_lines_than_allowed_are_refused(settings, account, actor):
    settings.BLOCKLIST_UPLOAD_MAX_BYTES = 10 * 1024 * 1024
    with pytest.raises(BlocklistError) as exc:
        custom.upload_custom_blocks(account, _addresses(MAX_UPLOAD_LINES + 1), actor=actor)
    assert exc.value.code == "too_many_lines" and exc.value.status == 400
    assert not Block.objects.exists()


def test_a_file_that_is_not_text_is_refused():
    with pytest.raises(BlocklistError) as exc:
        read_upload(b"a@example.com\n\xff\xfe\x00\x00")
    assert exc.value.code == "bad_encoding"


@pytest.mark.parametrize("size", [2_000, 200_000])  # the file's size; the body's length
def test_the_api_refuses_a_file_over_the_cap_with_413(api_client, settings, size):
    settings.BLOCKLIST_UPLOAD_MAX_BYTES = 1000
    r = api_client.post(
        "/api/v1/blocklist/custom/upload/",
        {"file": SimpleUploadedFile("list.txt", b"a@example.com\n" * (size // 14))},
        format="multipart",
    )
    assert r.status_code == 413
    assert r.json()["code"] == "file_too_large"
    assert r.json()["message"] == "The file is larger than 1,000 bytes; split it."
    assert not Block.objects.exists()


def test_the_api_accepts_a_file_under_the_cap(api_client, settings):
    settings.BLOCKLIST_UPLOAD_MAX_BYTES = 1000
    r = api_client.post(
        "/api/v1/blocklist/custom/upload/",
        {"file": SimpleUploadedFile("list.txt", _addresses(40))},
        format="multipart",
    )
    assert r.status_code == 200 and r.json()["valid"] == 40


@pytest.mark.parametrize("size", [2_000, 200_000])
def test_the_console_refuses_a_file_over_the_cap(alice_client, account, settings, size):
    settings.BLOCKLIST_UPLOAD_MAX_BYTES = 1000
    upload = SimpleUploadedFile("list.csv", b"a@example.com\n" * (size // 14))
    url = reverse("blocklist:custom_upload")
    r = alice_client.post(url, {"file": upload}, HTTP_ACCEPT="application/json")
    assert r.status_code == 413 and r.json()["code"] == "file_too_large"
    upload.seek(0)
    page = alice_client.post(url, {"file": upload}, follow=True)
    assert "The file is larger than 1,000 bytes; split it." in page.content.decode()
    assert not Block.objects.exists()


def test_the_console_page_states_the_limits(alice_client, account):
    html = alice_client.get(reverse("blocklist:custom_upload")).content.decode()
    assert "100,000 lines and 5.0\xa0MB" in html
