"""Proofs of work for password guesses (links/proofs.py): one visitor's, one guess's, a few minutes'."""

from __future__ import annotations

import pytest

from shortlink.clock import MINUTE
from shortlink.links.identity import LinkId
from shortlink.links.proofs import BITS, VALID_MINUTES, challenge, holds
from support import solve_proof

LINK = LinkId("s.example.com", "members")
NOW = 1_790_000_000_000


@pytest.fixture(scope="module")
def solved() -> tuple[str, str]:
    asked = challenge("secret", LINK, "visitor-a", 0, NOW)
    return asked, solve_proof(asked, BITS)


@pytest.mark.parametrize("secret, link, visitor, wrong, later, holding", [
    ("secret", LINK, "visitor-a", 0, 0, True),
    ("secret", LINK, "visitor-a", 0, VALID_MINUTES * MINUTE, True),
    ("secret", LINK, "visitor-a", 0, (VALID_MINUTES + 1) * MINUTE, False),  # too old
    ("secret", LINK, "visitor-a", 0, -MINUTE, False),  # from the future
    ("secret", LINK, "visitor-b", 0, 0, False),  # another visitor's
    ("secret", LINK, "visitor-a", 1, 0, False),  # spent: a wrong guess came in between
    ("secret", LinkId("s.example.com", "other"), "visitor-a", 0, 0, False),
    ("another stack", LINK, "visitor-a", 0, 0, False),
])
def test_a_proof_holds_only_for_its_own_guess(solved: tuple[str, str], secret: str, link: LinkId, visitor: str, wrong: int,
                                              later: int, holding: bool) -> None:
    asked, nonce = solved
    assert holds(secret, link, visitor, wrong, NOW + later, asked, nonce) is holding


@pytest.mark.parametrize("nonce", ["", "x" * 33, "1 2", "１２"])
def test_a_malformed_nonce_or_challenge_never_holds(solved: tuple[str, str], nonce: str) -> None:
    asked, _ = solved
    assert not holds("secret", LINK, "visitor-a", 0, NOW, asked, nonce)
    assert not holds("secret", LINK, "visitor-a", 0, NOW, "9" * 40 + ".0.x", "1")
    assert not holds("secret", LINK, "visitor-a", 0, NOW, "", "1")


def test_a_nonce_without_the_work_does_not_hold(solved: tuple[str, str]) -> None:
    asked, nonce = solved
    assert not holds("secret", LINK, "visitor-a", 0, NOW, asked, str(int(nonce) + 1))  # 1 in a million holds by chance
