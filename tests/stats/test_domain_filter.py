"""The domain filters of an account with thousands of domains: the page carries the first
suggestions, the rest come as the user types, and only the account's own domains."""

from __future__ import annotations

import pytest
from django.utils import timezone

from stats.models import SeenDomain, Side
from stats.services import DOMAIN_MENU_SIZE

pytestmark = pytest.mark.django_db


@pytest.fixture
def many_domains(account, other_account):
    now = timezone.now()
    SeenDomain.objects.bulk_create(
        SeenDomain(account=account, side=Side.RECIPIENT, domain=f"d{i:04}.example", last_seen=now)
        for i in range(DOMAIN_MENU_SIZE + 50)
    )
    SeenDomain.objects.bulk_create(
        [
            SeenDomain(account=account, side=Side.RECIPIENT, domain="gmail.com", last_seen=now),
            SeenDomain(account=account, side=Side.SENDER, domain="mail.acme.test", last_seen=now),
            SeenDomain(
                account=other_account, side=Side.RECIPIENT, domain="globex-only.test", last_seen=now
            ),
        ]
    )


def test_a_long_list_sends_its_start_and_the_rest_as_typed(alice_client, many_domains):
    page = alice_client.get("/queue/")
    field = page.context["form"].fields["recipient_domain"]
    assert len(field.widget.suggestions) == DOMAIN_MENU_SIZE
    assert field.widget.suggestions[0] == "d0000.example" and "gmail.com" not in (
        field.widget.suggestions
    )
    assert 'data-suggest="/domains/?side=recipient"' in page.content.decode()

    typed = alice_client.get("/domains/", {"side": "recipient", "starting": "D012"}).json()
    assert typed == {"domains": [f"d{i:04}.example" for i in range(120, 130)]}
    assert alice_client.get("/domains/", {"side": "recipient", "starting": "gm"}).json() == {
        "domains": ["gmail.com"]
    }
    # A domain past the first hundred filters the page like any other.
    chosen = alice_client.get("/queue/", {"recipient_domain": "d0149.example"})
    assert chosen.status_code == 200 and not chosen.context["form"].errors


@pytest.mark.parametrize("count", [DOMAIN_MENU_SIZE, DOMAIN_MENU_SIZE + 1])
def test_the_page_asks_for_more_only_when_there_is_more(alice_client, account, count):
    SeenDomain.objects.bulk_create(
        SeenDomain(
            account=account,
            side=Side.RECIPIENT,
            domain=f"d{i:04}.example",
            last_seen=timezone.now(),
        )
        for i in range(count)
    )
    page = alice_client.get("/queue/")
    assert len(page.context["form"].fields["recipient_domain"].widget.suggestions) == (
        DOMAIN_MENU_SIZE
    )
    asks = 'data-suggest="/domains/?side=recipient"' in page.content.decode()
    assert asks == (count > DOMAIN_MENU_SIZE)


def test_suggestions_never_name_another_accounts_domain(alice_client, bob, many_domains, client):
    assert alice_client.get("/domains/", {"side": "recipient", "starting": "glob"}).json() == {
        "domains": []
    }
    refused = alice_client.get("/queue/", {"recipient_domain": "globex-only.test"})
    assert refused.status_code == 400 and "No mail to globex-only.test" in refused.content.decode()


@pytest.mark.parametrize("starting", ["%", "_0", "x" * 20_000, "<script>", "\u202e", "d\x00"])
def test_hostile_text_suggests_nothing_and_breaks_nothing(alice_client, many_domains, starting):
    answer = alice_client.get("/domains/", {"side": "recipient", "starting": starting})
    assert answer.status_code == 200
    if "\x00" in starting:  # dropped, as no stored text holds one: "d" was typed
        assert answer.json()["domains"][0] == "d0000.example"
    else:
        assert answer.json() == {"domains": []}, "LIKE wildcards are taken as text"


def test_a_bad_side_is_a_clear_error(alice_client):
    answer = alice_client.get("/domains/", {"side": "both"})
    assert answer.status_code == 400 and answer.json()["code"] == "invalid_side"


@pytest.mark.parametrize("value", ["\x00", "a\x00b.com", "x" * 20_000, "not a domain"])
def test_a_hostile_domain_in_the_filter_is_a_form_error(alice_client, many_domains, value):
    for url in ("/queue/", "/bounced/"):
        response = alice_client.get(url, {"recipient_domain": value})
        assert response.status_code == 400, (url, value)
        assert response.context["form"].errors["recipient_domain"]


@pytest.fixture
def idn_domains(account, other_account):
    now = timezone.now()
    SeenDomain.objects.bulk_create(
        SeenDomain(account=owner, side=Side.RECIPIENT, domain=domain, last_seen=now)
        for owner, domain in [
            (account, "xn--fsqu00a.xn--fiqs8s"),  # 例子.中国
            (account, "xn--bcher-kva.de"),  # bücher.de
            (account, "xn--fsqu00a.com"),  # 例子.com
            (account, "example.cn"),
            (other_account, "xn--fsqu00a.xn--io0a7i"),  # 例子.网络, another account's
        ]
    )


def test_internationalised_domains_are_suggested_as_people_write_them(alice_client, idn_domains):
    page = alice_client.get("/queue/")
    suggestions = page.context["form"].fields["recipient_domain"].widget.suggestions
    assert set(suggestions) == {"例子.中国", "bücher.de", "例子.com", "example.cn"}
    assert '<option value="例子.中国">' in page.content.decode()


@pytest.mark.parametrize(
    "typed, expected",
    [
        ("例", ["例子.com", "例子.中国"]),
        ("例子.中", ["例子.中国"]),
        ("例子。中", ["例子.中国"]),  # the full stop a Chinese input method types
        ("BÜ", ["bücher.de"]),
        ("bu\u0308", ["bücher.de"]),  # ü as u and a combining diaeresis
        ("\uff45\uff58", ["example.cn"]),  # full-width "ex" is the ASCII one
        ("xn--bc", ["bücher.de"]),  # the stored form still finds it
        ("网", []),
    ],
)
def test_what_is_typed_in_unicode_finds_the_domains_it_starts(
    alice_client, idn_domains, typed, expected
):
    answer = alice_client.get("/domains/", {"side": "recipient", "starting": typed})
    assert answer.status_code == 200
    assert answer.json() == {"domains": expected}


def test_a_domain_typed_in_unicode_filters_the_page(alice_client, idn_domains):
    for typed in ("例子.中国", "例子。中国", "xn--fsqu00a.xn--fiqs8s"):
        chosen = alice_client.get("/queue/", {"recipient_domain": typed})
        assert chosen.status_code == 200 and not chosen.context["form"].errors, typed
        assert chosen.context["form"].cleaned_data["recipient_domain"] == ("xn--fsqu00a.xn--fiqs8s")
    refused = alice_client.get("/queue/", {"recipient_domain": "例子.网络"})
    assert refused.status_code == 400
    assert "No mail to 例子.网络 in the last 90 days" in refused.content.decode()
