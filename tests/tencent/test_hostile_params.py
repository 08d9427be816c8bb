"""Any parameters, any types, to every offered action: an answer in Tencent's envelope, never
`InternalError` (the endpoint's 500), and nothing logged as a failure.

Each example starts from a valid call of one action and replaces or adds fields with
arbitrary JSON values (NUL, lone surrogates, huge numbers, nesting, wrong types), signed by
the official SDK.
"""

from __future__ import annotations

import base64
import json
import logging

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException

from blocklist import changes, custom
from blocklist.models import Block
from delivery.sending import add_sender_identity
from tencent.actions import ACTIONS
from tests.tencent.conftest import EXPIRES

pytestmark = pytest.mark.django_db

DAY = "2026-11-29"


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


VALID = {
    "SendEmail": {
        "FromEmailAddress": "news@mail.acme.example",
        "Destination": ["carol@gmail.com"],
        "Subject": "News",
        "Simple": {"Html": _b64("<p>Hi</p>"), "Text": _b64("Hi")},
        "SmtpHeaders": '{"X-Campaign": "nov"}',
    },
    "ListBlackEmailAddress": {
        "StartDate": DAY,
        "EndDate": DAY,
        "Limit": 10,
        "Offset": 0,
        "EmailAddress": "a@b.com",
    },
    "DeleteBlackList": {"EmailAddressList": ["a@b.com"]},
    "CreateCustomBlacklist": {"Emails": ["a@b.com"], "ExpireDate": EXPIRES},
    "ListCustomBlacklist": {"Offset": 0, "Limit": 10, "Status": 0, "Email": "a@b.com"},
    "UpdateCustomBlackList": {"Id": 1, "Email": "a@b.com", "ExpireDate": EXPIRES},
    "DeleteCustomBlackList": {"Emails": ["a@b.com"]},
    "GetStatisticsReport": {
        "StartDate": DAY,
        "EndDate": DAY,
        "Domain": "mail.acme.example",
        "ReceivingMailboxType": "gmail.com",
    },
    "GetSendEmailStatus": {
        "RequestDate": DAY,
        "Offset": 0,
        "Limit": 10,
        "MessageId": "m1",
        "ToEmailAddress": "a@b.com",
    },
    "GetAbuseReport": {
        "StartTime": DAY,
        "EndTime": f"{DAY} 23:59:59",
        "Offset": 0,
        "Limit": 10,
    },
}

# Values that broke, or could break, a parser or the database.
HOSTILE_VALUES = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "\ud800",
    "9999-12-31",
    "0001-01-01",
    "0000-00-00",
    "9999-12-31 23:59:59",
    "-1",
    "1e400",
    "2147483648",
    2**31,
    2**63,
    2**70,
    -1,
    -(2**63),
    1.5,
    True,
    None,
    [],
    {},
    ["\x00"],
    [2**63],
    {"Html": "AA==", "Text": "\ud800"},
]
_HOSTILE = st.sampled_from(HOSTILE_VALUES)
_TEXT = st.one_of(_HOSTILE.filter(lambda v: isinstance(v, str)), st.text(max_size=30))
_JSON = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(2**70), max_value=2**70),
        st.floats(allow_nan=False, allow_infinity=False),
        _TEXT,
    ),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(_TEXT, inner, max_size=4)),
    max_leaves=12,
)


@st.composite
def calls(draw):
    action = draw(st.sampled_from(sorted(ACTIONS)))
    params = dict(VALID[action])
    names = sorted(params)
    # Mostly one field changed, so the others do not stop the call before it goes deep.
    many = draw(st.integers(0, 3)) == 0
    changed = draw(st.lists(st.sampled_from(names), unique=True, min_size=1, max_size=1 + 3 * many))
    for name in changed:
        if draw(st.booleans()):
            # A text of the wrong kind where text is expected is the likeliest bad input.
            params[name] = draw(st.one_of(_HOSTILE, _HOSTILE, _TEXT, _JSON))
        else:
            del params[name]
    if many:
        params.update(draw(st.dictionaries(_TEXT, _JSON, max_size=2)))
    return action, params


@pytest.fixture
def sender(account):
    """A verified sender, and a custom block for UpdateCustomBlackList to find."""
    custom.add_custom_blocks(account, ["a@b.com"], actor=changes.SYSTEM)
    VALID["UpdateCustomBlackList"]["Id"] = Block.objects.get(account=account).pk
    return add_sender_identity(account, "mail.acme.example", verified=True)


def test_every_valid_call_is_valid(ses, sender):
    """The starting points are calls the service accepts, so the mutations start deep."""
    for action, params in VALID.items():
        answer = ses.call_json(action, params)
        assert "Error" not in answer["Response"], action


@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_every_field_takes_every_hostile_value(ses, sender, caplog, action):
    """Each parameter of a valid call replaced, one at a time, by each hostile value."""
    sent = set()
    for name in sorted(VALID[action]):
        for value in HOSTILE_VALUES:
            params = {**VALID[action], name: value}
            body = json.dumps(params, sort_keys=True)
            if body in sent:  # the same body twice in a second is refused as a replay
                continue
            sent.add(body)
            try:
                ses.call_json(action, params)
            except TencentCloudSDKException as exc:
                assert exc.code not in ("InternalError", "AuthFailure.SignatureFailure"), (
                    name,
                    value,
                    exc.message,
                )
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


@settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(call=calls())
def test_no_parameters_make_an_internal_error(ses, sender, caplog, call):
    action, params = call
    caplog.clear()
    with caplog.at_level(logging.ERROR, logger="tencent"):
        try:
            answer = ses.call_json(action, params)
        except TencentCloudSDKException as exc:
            assert exc.code != "InternalError", (action, params, exc.message)
        else:
            assert "Error" not in answer["Response"]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], (action, params)
