"""The classifier against the real bounces in other mail libraries' tests.

    git clone https://github.com/postalsys/emailengine var/corpora/emailengine
    git clone https://github.com/mailgun/flanker var/corpora/flanker
    git clone https://github.com/mikel/mail var/corpora/mail
    git clone https://github.com/rgl/MailBounceDetector var/corpora/MailBounceDetector
    .venv/bin/python bench/library_bounces.py

None of them is stored here, and none is on a package registry with its tests; a corpus
without a copy is listed with the command that fetches it and skipped, so this exits 0 on a
fresh clone. Each file's expectation below was written by reading the message by hand: the
recipients are the ones the library's own test names (compared case-insensitively: EmailEngine's
test keeps a mixed-case local part), the classes are what the message says (not the file's
name: "bounce_qmail_multipart_alternative_non_existing_mailbox.eml" says "Relay access
denied"). Prints, per corpus, the invalid-address verdicts and how many are right, the
recipients as expected, the classes as expected, and every disagreement.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPORA = ROOT / "var" / "corpora"

INVALID, FULL, OTHER, BLOCKED, SPAM = (
    "invalid_address",
    "mailbox_full",
    "other",
    "blocked",
    "spam_rejected",
)
COMPLAINT, NOT_A_BOUNCE = "complaint", "not_a_bounce"

# corpus: (repository, folder, {file: {recipient: class}}); an empty dict is "not a bounce".
EXPECTED: dict[str, tuple[str, str, dict[str, dict[str, str]]]] = {
    "emailengine": (
        "postalsys/emailengine",
        "test/fixtures/bounces",
        {
            # Real sends to made-up mailboxes (2022-2023): each provider's unknown user.
            "163.eml": {"jgfhhoiyfjhhugjhv@ethereal.email": INVALID},
            "fastmail.eml": {"htfgvhyufthdgcvhgjyfthgc@ethereal.email": INVALID},
            "gmail.eml": {"jhfthgfuyfhvjkugjhvjuyfv@hot.ee": INVALID},
            "hotmail.eml": {"sdfadsdfwedsfcasfeqwefwq@hot.ee": INVALID},
            "mailru.eml": {"tfhgyuftghjyftghv@hot.ee": INVALID},
            "outlook.eml": {"wfsddasdasffasdqwqw@hot.ee": INVALID},
            "postfix.eml": {"sdagfsdfgdasfsdf@hot.ee": INVALID},
            "rambler.eml": {"yhfgcvjyutfdchgyufthgc@ethereal.email": INVALID},
            "workmail.eml": {"gfdutydrfghutydrfcuftydh@hot.ee": INVALID},
            "yahoo.eml": {"thgdcgrfchvutycfgxcvg@hot.ee": INVALID},
            "zonemta.eml": {"sdffasdfgfasfadas@hot.ee": INVALID},
            # Gmail's "5.2.1 The email account that you tried to reach is disabled": it exists.
            "zoho.eml": {"recipient@example.com": OTHER},
        },
    ),
    "flanker": (
        "mailgun/flanker",
        "tests/fixtures/messages",
        {
            "bounce/broken-mime.eml": {"info@example.net": OTHER},  # "Delivery failed 10 attempts"
            "bounce/delayed-broken.eml": {"demo@example.com": FULL},  # Status 4.2.2
            "bounce/delayed.eml": {"foo@example.com": OTHER},  # 426 connection timed out
            # "550 5.1.0 Recipient rejected": an address status that proves nothing (row 10).
            "bounce/gmail-invalid-address.eml": {"awfawfawfawfawfaw@someserverhere.com": OTHER},
            "bounce/gmail-no-dns.eml": {"user@example.comm": INVALID},  # domain name not found
            "bounce/mailbox-full.eml": {"user@aol.com": FULL},
            "bounce/no-mx.eml": {"user@example.com": OTHER},  # 454 4.4.4: temporary
            "bounce/office365.eml": {"noname@example.com": INVALID},  # 5.1.10 RecipientNotFound
            "bounce/zed.eml": {
                "asdfasdfasdfasdfasdfasdfewrqertrtyrthsfgdfgadfqeadvxzvz@gmail.com": INVALID
            },
            "complaints/aol.eml": {"redacted@aol.com": COMPLAINT},
            "complaints/yahoo.eml": {"user@yahoo.com": COMPLAINT},
        },
    ),
    "mail": (
        "mikel/mail",
        "spec/fixtures/emails/multipart_report_emails",
        {
            **{
                f"multi_address_bounce{n}.eml": {
                    f"{local}@gmail.com": INVALID
                    for local in (
                        "bbbbvhvbbvkjbhfbvbvjhb",
                        "bscdbcjhasbcjhbdscbhbsdhcbj",
                        "egyfefsdvsfvvhjsd",
                        "kfhejkfbsjkjsbhds",
                        "qfvhgsvhgsduiohncdhcvhsdfvsfygusd",
                    )
                }
                for n in (1, 2)
            },
            # "<u@ci.com> has restricted SMS e-mail", Status 5.3.0.
            "multipart_report_multiple_status.eml": {"u@ci.com": OTHER},
            "report_422.eml": {"fraser@oooooooo.com.au": FULL},
            # "Unknown E-Mail Address" in reply to DATA (row 8); signed by MailScanner.
            "report_530.eml": {"edwin@zzzzzzz.com": SPAM},
        },
    ),
    "MailBounceDetector": (
        "rgl/MailBounceDetector",
        "MailBounceDetector.Tests/Fixtures",
        {
            "bounce_exchange_non_existing_mailbox.eml": {
                "email_that_does_not_exists_this_is_just_a_test@gmail.com": INVALID
            },
            "bounce_postfix_non_existing_mailbox.eml": {
                "email_that_does_not_exists_this_is_just_a_test@test.local": INVALID
            },
            "bounce_qmail_extra_lines_between_recipient_paragraphs.eml": {
                "alice@example.com": INVALID,
                "bob@example.com": INVALID,
            },
            # The remote host said "554 5.7.1 <…>: Relay access denied".
            "bounce_qmail_multipart_alternative_non_existing_mailbox.eml": {
                "notfound@example.com": BLOCKED
            },
            "bounce_qmail_no_host_found.eml": {"god@heaven.af.mil": INVALID},
            "non_bounce_postfix_hello_world.eml": {},
        },
    ),
}


def main() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sesconsole.settings")
    os.environ.setdefault("SECRET_KEY", "bench")
    import django

    django.setup()
    from delivery.reports import parse_report

    for name, (repository, folder, files) in EXPECTED.items():
        root = CORPORA / name / folder
        if not root.is_dir():
            print(f"== {name}: no copy; git clone https://github.com/{repository} {CORPORA / name}")
            continue
        invalid = invalid_right = recipients_right = classes_right = outcomes = 0
        disagreements = []
        for file, expected in files.items():
            report = parse_report((root / file).read_bytes())
            got = {
                (o.recipient or "-").lower(): str(o.bounce_class)
                for o in report.recipients
                if o.bounce_class != NOT_A_BOUNCE
            }
            outcomes += max(len(expected), 1)
            if not expected:
                right = not got
                recipients_right += right
                classes_right += right
                if not right:
                    disagreements.append(f"{file}: not a bounce, read as {got}")
                continue
            for recipient, want in expected.items():
                have = got.get(recipient.lower())
                recipients_right += have is not None
                classes_right += have == want
                if have != want:
                    disagreements.append(f"{file}: {recipient} expected {want}, got {have}")
            for recipient, have in got.items():
                if have == INVALID:
                    invalid += 1
                    invalid_right += expected.get(recipient) == INVALID
                if recipient not in {r.lower() for r in expected}:
                    disagreements.append(f"{file}: blamed {recipient} ({have}), not expected")
        print(
            f"== {name} ({len(files)} files, {outcomes} outcomes): invalid-address verdicts"
            f" {invalid_right}/{invalid} right; recipients {recipients_right}/{outcomes};"
            f" classes {classes_right}/{outcomes}"
        )
        for line in disagreements:
            print(f"  {line}")


if __name__ == "__main__":
    main()
