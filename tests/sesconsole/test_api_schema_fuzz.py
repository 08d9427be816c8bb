"""schemathesis against /api/schema/: every check, through WSGI (no server), zero failures.

Positive cases (valid by the schema) must be answered 2xx or with a documented error;
negative cases must be refused with a 4xx; every answer must match its documented status,
content type, headers and shape. The API key is sent by the test, so the generator makes no
credentials of its own (authentication has tests of its own).
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import CHECKS, load_all_checks

from sesconsole.lib.timezones import MAX_DAY, MIN_DAY
from sesconsole.wsgi import application

pytestmark = pytest.mark.django_db

EXAMPLES_PER_OPERATION = 25

load_all_checks()
ALL_CHECKS = [check for check in CHECKS.get_all() if callable(check)]

# Building the schema reads no table, so it is loaded once, at collection.
schema = schemathesis.openapi.from_wsgi("/api/schema/", application)
schema.config.generation.update(with_security_parameters=False)
# A body over its documented limits is refused with 413, the status for exactly that.
schema.config.checks.negative_data_rejection.expected_statuses = [
    *schema.config.checks.negative_data_rejection.expected_statuses,
    "413",
]
# An uploaded blocklist file: addresses, one a line.
_ADDRESS_FILE = st.lists(st.emails(), min_size=1, max_size=5).map(
    lambda lines: "\n".join(lines).encode()
)
schemathesis.openapi.media_type("text/csv", _ADDRESS_FILE, aliases=["text/plain"])
# The intake takes a returned report as raw bytes.
schemathesis.serializer.alias("message/rfc822", "application/octet-stream")

# Pairs of dates whose relation the schema cannot state (the end not before the start, a
# bounded span): a valid request names one day.
DATE_PAIRS = (("start", "end"), ("sent_start", "sent_end"))


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    """As Django's test client does: a request must not close the test's connection (it
    holds the transaction every example is rolled back with)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


def _one_day(case) -> None:
    """In a positive case, a date range is one day inside the supported dates (today at
    the resolutions kept only for recent days), and an expiry date lies ahead."""
    if case.meta is None or case.meta.generation.mode != GenerationMode.POSITIVE:
        return
    query = dict(case.query or {})
    recent = query.get("granularity") in ("minute", "hour")
    changed = False
    for first, last in DATE_PAIRS:
        try:
            day = date.fromisoformat(str(query.get(first, query.get(last))))
        except ValueError:
            continue
        day = timezone.now().date() if recent else min(max(day, MIN_DAY), MAX_DAY)
        for name in (first, last):
            if name in query:
                query[name] = day.isoformat()
                changed = True
    if changed:
        case.query = query
    if isinstance(case.body, dict) and isinstance(case.body.get("url"), str):
        # Whether a host's addresses are public is known only after DNS, which no schema can
        # state (a 400 `forbidden_address`, documented): a valid notification URL names a
        # public address, keeping the generated port, path and query.
        rest = re.sub(r"^\s*[A-Za-z]+://(\[[^\]]*\]|[^/?#:]*)", "", case.body["url"])
        case.body = {**case.body, "url": f"https://93.184.215.14{rest}"}
        changed = True
    if isinstance(case.body, dict) and case.body.get("expires_on"):
        ahead = timezone.now().date() + timedelta(days=30)
        case.body = {**case.body, "expires_on": ahead.isoformat()}
        changed = True
    if changed:
        # What the case starts from, as schemathesis does for the overrides it applies (a
        # body holding a file would otherwise count as invalid, files are not validated).
        case._record_starting_state()


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_the_api_answers_as_its_schema_says(case, api_key):
    _one_day(case)
    case.call_and_validate(headers={"Authorization": f"Bearer {api_key}"}, checks=ALL_CHECKS)
