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
        ("http://example.com:8080", "http://example.com:8080"),
        ("https://例子.com/路径", "https://xn--fsqu00a.com/%E8%B7%AF%E5%BE%84"),
        ("https://example.com/already%20encoded?q=%E4%B8%AD", "https://example.com/already%20encoded?q=%E4%B8%AD"),
        ("https://[2001:db8::1]:443/x", "https://[2001:db8::1]:443/x"),
        ("https://example.com/a+b;c=d,e", "https://example.com/a+b;c=d,e"),
    ],
)
def test_valid_urls_are_kept_as_given_except_for_normalization(given_url: str, stored: str) -> None:
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
        ("https:///path-only", "host"),
        ("https://exa mple.com/", "whitespace"),
        ("https://example.com/a\r\nSet-Cookie: x=1", "whitespace"),
        ("https://example.com/\x00", "control"),
        ("https:\\\\example.com", "backslash"),
        ("https://s.example.com/loop", "own short domains"),
        ("https://www.go.example.com/loop", "own short domains"),
        ("https://evil.example/x", "blocked"),
        ("https://a.evil.example/x", "blocked"),
        ("https://-bad-.com/", "host name"),
        ("https://example.com:99999/", "port"),
        ("", "empty"),
    ],
)
def test_bad_urls_are_refused_with_a_reason(bad: str, reason: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        norm(bad)
    assert caught.value.errors[0].field == "url"
    assert reason in caught.value.errors[0].message


def test_url_length_limit_counts_the_stored_form() -> None:
    base = "https://example.com/"
    assert norm(base + "a" * (MAX_URL_LENGTH - len(base))).endswith("a")
    with pytest.raises(InvalidInput):
        norm(base + "a" * (MAX_URL_LENGTH - len(base) + 1))
    # one non-ASCII character becomes nine stored characters (%XX x 3)
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
