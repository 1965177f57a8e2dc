"""The password guards a link's item keeps: each visitor's back-off and the link's guesses this
minute. A guess is claimed atomically (one conditional UpdateItem) before it is checked; the
visit a right guess makes is LinkStore.visit with its Unlock."""

from __future__ import annotations

from dataclasses import dataclass

from ..clock import MINUTE
from ..dynamodb import ConditionFailed, Expression, Update, client, either, every, faults, plain
from .identity import LinkId
from .model import Link
from .store import GUARD_PREFIX, LinkStore, from_item, guard_attribute


@dataclass(frozen=True)
class Guard:
    """One visitor's password back-off on one link: wrong guesses so far, and when the next may
    come (a moment, in milliseconds)."""

    n: int
    at: int


def guess_window(now: int) -> int:
    """The minute a guess falls in: the link's guesses are counted per minute."""
    return now // MINUTE


def get_with_guards(store: LinkStore, link_id: LinkId) -> tuple[Link, dict[str, Guard]]:
    """The stored link and its visitors' password back-offs (one strongly consistent GetItem)."""
    item = store.item(link_id)
    guards = {name[len(GUARD_PREFIX):]: Guard(**plain(value["M"])) for name, value in item.items()
              if name.startswith(GUARD_PREFIX) and "M" in value}
    return from_item(item), guards


def claim_guess(store: LinkStore, link: Link, visitor: str, guard: Guard | None, now: int, *, retry_at: int,
                ceiling: int, forget: list[str]) -> bool:
    """Take the right to check one password guess, atomically: only while the visitor's back-off
    is what was read (so of parallel guesses one wins) and the link's guesses this minute are
    under `ceiling`. Sets the visitor's next back-off before the guess is checked, and removes the
    `forget` visitors' old back-offs. False when someone else claimed first."""
    window = guess_window(now)
    expression = Expression()
    mine = guard_attribute(visitor)
    update = Update(expression).set(mine, {"n": (guard.n if guard else 0) + 1, "at": retry_at})
    if link.guess_window == window:
        update.add("guess_count", 1)
        counted = every(expression.compare("guess_window", "=", window), expression.compare("guess_count", "<", ceiling))
    else:
        update.set("guess_window", window).set("guess_count", 1)
        counted = either(expression.absent("guess_window"), expression.compare("guess_window", "<", window))
    unchanged = expression.absent(mine) if guard is None else f"{expression.member(mine, 'n')} = {expression.value(guard.n)}"
    update.remove(*(guard_attribute(other) for other in forget))
    condition = every(expression.compare("password_hash", "=", link.password_hash or ""), counted, unchanged)
    try:
        with faults("UpdateItem"):
            client().update_item(TableName=store.table, Key={"link_id": {"S": link.id.key}}, UpdateExpression=update.text(),
                                 ConditionExpression=condition, **expression.placeholders())
    except ConditionFailed:
        return False
    return True
