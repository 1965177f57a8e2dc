"""Link passwords: a salted, deliberately slow hash (scrypt); the clear text is never stored."""

from __future__ import annotations

import hashlib

from ..clock import SECOND
from .identity import LinkId

# scrypt with n=2^14, r=8 costs ~16 MiB and tens of milliseconds per guess.
_N, _R, _P = 2**14, 8, 1


def hash_password(password: str, link_id: LinkId) -> str:
    """The hash is salted with the link's id, so the redirect can check a password with
    one conditional UpdateItem (no read of the salt first) and equal passwords on two
    links never share a hash."""
    # surrogatepass: a guess that is not valid text is just a wrong guess
    digest = hashlib.scrypt(password.encode("utf-8", "surrogatepass"), salt=f"shortlink:{link_id.key}".encode(), n=_N, r=_R, p=_P, dklen=32)
    return f"scrypt${_N}${_R}${_P}${digest.hex()}"


def retry_delay(failures: int) -> int:
    """How long (milliseconds) a link refuses a visitor's password tries after `failures` wrong
    ones: 1, 2, 4 … 300 seconds."""
    return min(1 << max(failures - 1, 0), 300) * SECOND
