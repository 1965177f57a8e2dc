import pytest
from hypothesis import given
from hypothesis import strategies as st

from shortlink.errors import InvalidInput
from shortlink.links.urls import MAX_URL_LENGTH, normalize_url

OWN = ("s.example.com", "go.example.com")
BLOCKED = ("evil.example",)


def norm(url: str) -> str:
    return normalize_url(url, OWN, BLOCKED)


@pytest.mark.parametrize(
    "given_url, stored",
    [
        ("https://example.com/a/b?x=1&y=2#frag", "https://example.com/a/b?x=1&y=2#frag"),
        ("HTTPS://Example.COM/Path", "https://example.com/Path"),
        ("  https://example.com/pasted \n", "https://example.com/pasted"),
        ("http://example.com:8080", "http://example.com:8080/"),
        ("https://example.com:443/default-port", "https://example.com/default-port"),
        ("https://例子.com/路径", "https://xn--fsqu00a.com/%E8%B7%AF%E5%BE%84"),
        ("https://example.com/already%20encoded?q=%E4%B8%AD", "https://example.com/already%20encoded?q=%E4%B8%AD"),
        ("https://[2001:db8::1]:8443/x", "https://[2001:db8::1]:8443/x"),
        ("https://example.com/a+b;c=d,e", "https://example.com/a+b;c=d,e"),
        # UTS #46 non-transitional: ß stays ß (IDNA 2003 made it "ss", another domain)
        ("https://faß.ExAmPlE/", "https://xn--fa-hia.example/"),
        # what browsers open, though it looks wrong
        ("http://example.org/foo/bar#\\", "http://example.org/foo/bar#\\"),
        ("https:/example.com/", "https://example.com/"),
        ("https:\\\\example.com\\a", "https://example.com/a"),
        ("http://%65xample.com/", "http://example.com/"),
        ("https://example.com/a\r\nSet-Cookie: x=1", "https://example.com/aSet-Cookie:%20x=1"),
        ("http://0x7f.1.2.3/", "http://127.1.2.3/"),
    ],
)
def test_a_url_is_stored_as_the_standard_serialises_it(given_url: str, stored: str) -> None:
    assert norm(given_url) == stored


@pytest.mark.parametrize(
    "bad, reason",
    [
        ("javascript:alert(1)", "http:// or https://"),
        ("data:text/html,<script>", "http:// or https://"),
        ("ftp://example.com/file", "http:// or https://"),
        ("example.com/no-scheme", "http:// or https://"),
        ("https://bank.com@evil.example/login", "user name"),
        ("https://user:pw@example.com/", "user name"),
        ("https://exa mple.com/", "browser"),
        ("https://example.com:99999/", "browser"),
        # hosts ending in a number are addresses, and these are not valid ones
        ("http://1.2.3.4.5", "browser"),
        ("http://256.256.256.256", "browser"),
        ("http://192.168.0.257", "browser"),
        ("http://10000000000", "browser"),
        ("https://0x100000000/test", "browser"),
        ("http://foo.0x4", "browser"),
        ("http://💩.123/", "browser"),
        ("http://foo.09", "browser"),
        ("http://foo.09..", "DNS"),  # the standard keeps the empty label; no resolver can
        ("http://foo..example/", "DNS"),
        ("http://[::%31]", "browser"),  # a zone id
        ("https://example.com/\ud800", "browser"),  # a lone surrogate (JSON can carry one)
        ("https://" + "a" * 60 + ("." + "a" * 60) * 4 + ".com/", "DNS"),  # 310 characters
        ("https://" + "a" * 64 + ".com/", "DNS"),
        ("https://s.example.com/loop", "own short domains"),
        ("https://www.go.example.com/loop", "own short domains"),
        ("https://S.Example.COM./loop", "own short domains"),
        ("https://evil.example/x", "blocked"),
        ("https://a.evil.example./x", "blocked"),
        ("", "empty"),
    ],
)
def test_bad_urls_are_refused_with_a_reason(bad: str, reason: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        norm(bad)
    assert caught.value.errors[0].field == "url"
    assert reason in caught.value.errors[0].message


@pytest.mark.parametrize("spelling", ["http://0:3000/", "http://0.0.0.0/", "http://[::]/", "http://127.1/",
                                      "http://2130706433/", "http://[::ffff:127.0.0.1]/", "http://LOCALHOST./"])
def test_this_machine_is_refused_by_any_spelling(spelling: str) -> None:
    this_machine = ("localhost", "127.0.0.0/8", "::1", "0.0.0.0", "::")
    with pytest.raises(InvalidInput, match="blocked"):
        normalize_url(spelling, OWN, this_machine)


def test_url_length_limit_counts_the_stored_form() -> None:
    base = "https://example.com/"
    assert norm(base + "a" * (MAX_URL_LENGTH - len(base))).endswith("a")
    with pytest.raises(InvalidInput):
        norm(base + "a" * (MAX_URL_LENGTH - len(base) + 1))
    # one non-ASCII character of a path becomes nine stored characters (%XX x 3)
    with pytest.raises(InvalidInput):
        norm(base + "中" * 300)


@given(st.text(max_size=200))
def test_any_text_is_either_refused_or_stored_as_a_safe_http_url(text: str) -> None:
    try:
        stored = norm(text)
    except InvalidInput as refused:
        assert refused.errors[0].field == "url"
        return
    assert stored.startswith(("http://", "https://"))
    assert stored.isascii() and stored.isprintable()
    assert not any(c in stored for c in " \r\n\t\\")
    assert len(stored) <= MAX_URL_LENGTH
    assert norm(stored) == stored  # normalizing is idempotent
