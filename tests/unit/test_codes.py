import pytest
from hypothesis import given
from hypothesis import strategies as st

from shortlink.errors import InvalidInput
from shortlink.links.codes import ALPHABET, CODE_LENGTH, RESERVED, check_alias, new_code


def test_generated_codes_are_random_unambiguous_and_seven_long() -> None:
    codes = [new_code() for _ in range(2000)]
    assert all(len(c) == CODE_LENGTH for c in codes)
    assert len(set(codes)) == len(codes)
    assert not set("".join(codes)) & set("0O1lI")
    assert set("".join(codes)) <= set(ALPHABET)


@pytest.mark.parametrize("alias", ["abc", "my-link_2026", "A" * 64, "Sale-2026"])
def test_good_aliases_pass_unchanged(alias: str) -> None:
    assert check_alias(alias) == alias


@pytest.mark.parametrize("alias", ["ab", "a" * 65, "has space", "中文别名", "a/b", "a.b", "x\r\nLocation: evil", ""])
def test_bad_aliases_are_refused(alias: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        check_alias(alias)
    assert caught.value.errors[0].field == "alias"


@pytest.mark.parametrize("alias", ["api", "API", "Docs", "static", "health", "admin"])
def test_reserved_words_cannot_be_aliases_in_any_case(alias: str) -> None:
    assert alias.lower() in RESERVED
    with pytest.raises(InvalidInput, match="reserved"):
        check_alias(alias)


@given(st.text(max_size=80))
def test_an_accepted_alias_is_always_a_safe_path_segment(alias: str) -> None:
    try:
        check_alias(alias)
    except InvalidInput:
        return
    assert 3 <= len(alias) <= 64
    assert set(alias) <= set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")
