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
