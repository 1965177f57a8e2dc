"""Who may see and change a link: its owner (the API key that made it), or an operator."""

from __future__ import annotations

from dataclasses import dataclass

from .model import Link


@dataclass(frozen=True)
class Caller:
    """An API key's id (API Gateway's apiKeyId) and whether the stack lists it as an operator
    (AdminApiKeyIds): operators read, change and delete any link, anonymous ones too."""

    key_id: str
    admin: bool = False

    def may_see(self, link: Link) -> bool:
        return self.admin or link.owner == self.key_id
