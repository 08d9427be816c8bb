"""The console shows internationalised domains as people write them; the API keeps the
stored A-label form."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from blocklist import changes, custom
from delivery.addresses import InvalidAddress, normalize_address
from delivery.ingest import ingest_events
from sesconsole.lib.idn import display_address
from tests.events import make_event

pytestmark = pytest.mark.django_db

STORED = "user@xn--fsqu00a.xn--fiqs8s"
WRITTEN = "user@例子.中国"


def test_pages_show_the_domain_as_written_and_the_api_as_stored(alice_client, api_client, account):
    custom.add_custom_blocks(account, [WRITTEN], actor=changes.SYSTEM)
    ingest_events(account, [make_event("request", "m-idn", to=WRITTEN)])
    days = {"start": "2026-11-01", "end": "2026-11-30"}
    for url, query in (
        ("/blocklist/custom/", {}),
        ("/messages/", days),
        ("/messages/id/m-idn/", {}),
    ):
        html = alice_client.get(url, query).content.decode()
        assert WRITTEN in html.replace("<wbr>", ""), url
    rows = api_client.get("/api/v1/blocklist/custom/").json()["results"]
    assert [row["address"] for row in rows] == [STORED]


@given(st.text(min_size=1, max_size=12), st.sampled_from(["例子.中国", "bücher.de", "ex.com"]))
def test_what_is_shown_is_stored_again_as_it_was(local, domain):
    try:
        stored = normalize_address(f"{local}@{domain}")
    except InvalidAddress:
        return
    assert normalize_address(display_address(stored)) == stored
