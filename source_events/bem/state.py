"""bem's state: what a sync saves, as typed models, and every shape earlier versions saved (read here only).

Saved since 0.5.0, after a sync and while it reads (checkpointed every page):

    {"eventID": "<the newest ID read>",
     "starting_after": "<a real ID the API listed, at least the lookback before eventID; null: the start>"}

and while it recovers from a saved position that vanished (source_events.bem.recovery), also:

    "recovering": {"floor_second": <unix second, or null>, "starting_after": <its own newest-first position>,
                   "top": {"eventID": <where it started>, "below": <the resume ID found under it, or null>}}

Shapes of earlier versions, read and migrated by `BemState.from_saved`:

    {"eventID": X}                                      before 0.2.0: resume after X
    {"eventID": X, "already_read": [...]}                0.2.x left out a null starting_after: from the start
    {..., "starting_after": S, "already_read": [...]}    0.2.x-0.4.x: resume after S (the IDs read after it are
                                                         read again: the destination deduplicates them)
    {..., "newest_first": {...}}                         0.3.0, a first sync killed while reading from both
                                                         ends: its oldest-first position is kept; everything
                                                         after it is read again (duplicates, no loss)
"""

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

# How far an event's second may stray from the listing's order: IDs minted by a clock a second or two off
# the one that orders the listing (sorted by creation time). Recovery reads this much below its floor.
MARGIN_SECONDS = 2


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Position(_Model):
    """Where a reader resumes: after `starting_after` (a real ID, or None: from the listing's start), and the
    newest ID read so far (the lookback counts back from it)."""

    starting_after: str | None = None
    newest: str | None = None


class Top(_Model):
    """Where a newest-first read started (`eventID`), and `below`, the first real ID it read more than the
    lookback under it (or under the recovery's floor)."""

    eventID: str | None = None
    below: str | None = None


class Recovery(_Model):
    """A newest-first read from the top of the listing down to `floor_second`, because the saved position
    vanished, resuming after its own `starting_after`."""

    floor_second: int | None = None  # None: the IDs carry no second, read to the bottom
    starting_after: str | None = None
    top: Top = Top()


class BemState(_Model):
    eventID: str | None = None
    starting_after: str | None = None
    recovering: Recovery | None = None

    @property
    def position(self) -> Position:
        return Position(starting_after=self.starting_after, newest=self.eventID)

    @classmethod
    def from_saved(cls, saved: Mapping[str, Any] | None) -> "BemState":
        """The state a sync saved, in any shape this connector ever wrote. Raises ValueError naming what is
        wrong with it."""
        if not saved:
            return cls()
        if not isinstance(saved.get("eventID"), str):
            raise ValueError("no `eventID` event ID")
        if "already_read" not in saved and "starting_after" not in saved:
            saved = {**saved, "starting_after": saved["eventID"]}
        kept = {key: value for key, value in saved.items() if key not in ("newest_first", "already_read")}
        recovering = kept.get("recovering")
        if isinstance(recovering, Mapping):  # 0.4.x recoveries also listed what to skip: read again instead
            kept["recovering"] = {
                key: value for key, value in recovering.items() if key not in ("skip", "already_read")
            }
        try:
            return cls.model_validate(kept)
        except ValidationError as error:
            where = ".".join(str(part) for part in error.errors()[0]["loc"])
            raise ValueError(f"`{where}` is not what this connector saves") from None

    def to_saved(self) -> dict[str, Any]:
        saved: dict[str, Any] = {"eventID": self.eventID, "starting_after": self.starting_after}
        if self.recovering is not None:
            saved["recovering"] = self.recovering.model_dump(mode="json")
        return saved
