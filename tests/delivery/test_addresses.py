import pytest

from delivery.addresses import InvalidAddress, normalize_address


@pytest.mark.parametrize(
    ("raw", "normal"),
    [
        ("alice@gmail.com", "alice@gmail.com"),
        ("  Alice@GMAIL.com ", "alice@gmail.com"),
        ("Alice Smith <Alice@Example.COM>", "alice@example.com"),
        ("bob@bücher.de", "bob@xn--bcher-kva.de"),
        ("carol@Example.com.", "carol@example.com"),
        ('"Lee, Kim" <Kim@Example.com>', "kim@example.com"),  # a comma of the display name
    ],
)
def test_it_normalises(raw, normal):
    assert normalize_address(raw) == normal


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "alice",
        "@gmail.com",
        "alice@",
        "alice@localhost",
        "a b@gmail.com",
        "x" * 65 + "@a.com",
        "alice@-bad-.com",
        "alice@exa mple.com",
        "a@" + "b" * 64 + ".com",
    ],
)
def test_it_refuses(raw):
    with pytest.raises(InvalidAddress):
        normalize_address(raw)


@pytest.mark.parametrize(
    "raw",
    [
        '"Bob" <Bob@Example.COM>, c@d.example',
        "<a@example.com> <b@example.com>",
        "Bob <bob@multi.example>, carol@multi.example",
    ],
)
def test_several_addresses_in_one_are_refused_never_cut_to_the_first(raw):
    with pytest.raises(InvalidAddress, match="holds several addresses"):
        normalize_address(raw)


def test_a_refusal_quotes_what_was_given_not_what_a_parser_kept_of_it():
    with pytest.raises(InvalidAddress, match=r"'<b>x</b>@evil\.com' is not an email address"):
        normalize_address("<b>x</b>@evil.com")
