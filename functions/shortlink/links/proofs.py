"""Proofs of work for password guesses past a link's open lane.

A link checks at most GUESSES_PER_MINUTE guesses a minute from everyone together (links/follow.py):
that is what makes many addresses useless to an attacker, and what would lock the link's owner
out while they guess. Past that lane a guess is checked only with a proof: a nonce whose SHA-256
together with the challenge starts with BITS zero bits (about a million hashes: a second or two
of a phone's browser, which the password page does by itself). The challenge names the link, the
visitor (their address's key), the visitor's count of wrong guesses and the minute it was given,
signed with the stack's secret: so a proof serves one guess of one visitor, and a wrong guess
makes the next need a new one. Every visitor's own back-off (1, 2, 4 … 300 s) still applies.
"""

from __future__ import annotations

import hashlib
import hmac
import re

from ..clock import MINUTE
from .identity import LinkId

BITS = 20
VALID_MINUTES = 5  # a challenge given this many minutes ago is still taken (time to type)
_NONCE = re.compile(r"^[0-9A-Za-z]{1,32}$")


def _signature(secret: str, link_id: LinkId, visitor: str, minute: int, wrong: int) -> str:
    message = f"{link_id.key}|{visitor}|{minute}|{wrong}".encode("utf-8", "surrogatepass")
    return hmac.new(f"proof|{secret}".encode(), message, hashlib.sha256).hexdigest()[:24]


def challenge(secret: str, link_id: LinkId, visitor: str, wrong: int, now: int) -> str:
    """The challenge for this visitor's next guess (`wrong`: their wrong guesses so far)."""
    minute = now // MINUTE
    return f"{minute}.{wrong}.{_signature(secret, link_id, visitor, minute, wrong)}"


def leading_zero_bits(challenge_text: str, nonce: str) -> int:
    digest = int.from_bytes(hashlib.sha256(f"{challenge_text}:{nonce}".encode()).digest(), "big")
    return 256 - digest.bit_length()


def holds(secret: str, link_id: LinkId, visitor: str, wrong: int, now: int, challenge_text: str, nonce: str) -> bool:
    """The proof answers a challenge this service gave this visitor for this guess, lately."""
    parts = challenge_text.split(".")
    if len(parts) != 3 or not (parts[0].isdecimal() and parts[0].isascii() and len(parts[0]) < 12) or not _NONCE.match(nonce):
        return False
    minute = int(parts[0])
    if not 0 <= now // MINUTE - minute <= VALID_MINUTES or parts[1] != str(wrong):
        return False
    if not hmac.compare_digest(parts[2], _signature(secret, link_id, visitor, minute, wrong)):
        return False
    return leading_zero_bits(challenge_text, nonce) >= BITS
