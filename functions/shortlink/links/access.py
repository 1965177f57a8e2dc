"""Who may see and change a link: the team of the key that made it (a key API Gateway made is a
team of its own), within the short domains a key is limited to; an admin sees every link."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, TypedDict

from ..errors import Forbidden

if TYPE_CHECKING:  # the key authorizer reads roles and actors without the link model's imports
    from .model import Link

Role = Literal["admin", "member", "viewer"]
ROLES: tuple[Role, ...] = ("admin", "member", "viewer")


class ActorBody(TypedDict):
    """An actor as link bodies and events show it."""

    key_id: str
    name: str | None


@dataclass(frozen=True)
class Actor:
    """Who made a change: a key's id and, for a managed key, its name."""

    key_id: str
    name: str | None = None

    def to_body(self) -> ActorBody:
        return {"key_id": self.key_id, "name": self.name}

    @classmethod
    def from_body(cls, body: ActorBody | dict[str, Any] | None) -> Actor | None:
        return cls(str(body["key_id"]), body.get("name")) if body else None


@dataclass(frozen=True)
class Caller:
    """The key a request came with. `key_id`: a managed key's id, or API Gateway's apiKeyId;
    `team` None: the key's own links only (links it made, owner = key_id); `domains` None: all."""

    key_id: str
    role: Role = "member"
    team: str | None = None
    domains: tuple[str, ...] | None = None
    name: str | None = None

    @property
    def admin(self) -> bool:
        return self.role == "admin"

    @property
    def actor(self) -> Actor:
        return Actor(self.key_id, self.name)

    @property
    def scope(self) -> str:
        """The search index's list of the links this caller shares (links/catalogue.py)."""
        return f"t:{self.team}" if self.team is not None else f"o:{self.key_id}"

    def on_domain(self, domain: str) -> bool:
        return self.domains is None or domain in self.domains

    def may_see(self, link: Link) -> bool:
        if not self.on_domain(link.domain):
            return False
        if self.admin:
            return True
        if self.team is not None:
            return link.team == self.team
        return link.team is None and link.owner == self.key_id

    def may_write(self) -> None:
        """Viewers read; any write is refused (403), whatever the link."""
        if self.role == "viewer":
            raise Forbidden("this API key is a viewer's: it reads links and statistics, and changes nothing")

    def may_create_on(self, domain: str) -> None:
        self.may_write()
        if not self.on_domain(domain):
            raise Forbidden(f"this API key may create links on {', '.join(self.domains or ())} only")
