"""bem's state: what a sync saves, as typed models, and every shape earlier versions saved (read here only).

Saved since 0.4.0, after a sync and while it reads (checkpointed every page):

    {"eventID": "<the newest ID read>",
     "starting_after": "<a real ID the API listed, of an earlier second; null: from the listing's start>",
     "already_read": ["<every ID read after starting_after>", ...]}

and while it recovers from a saved position that vanished (source_events.bem.reading), also:

    "recovering": {"floor_second": <unix second, or null>, "skip": [...],
                   "starting_after": ..., "already_read": [...],
                   "top": {"eventID": ..., "below": ..., "above": [...]}}

Shapes of earlier versions, read and migrated by `BemState.from_saved`:

    {"eventID": X}                                      before 0.2.0: resume after X
    {"eventID": X, "already_read": [...]}                0.2.x left out a null starting_after: from the start
    {..., "newest_first": {...}}                         0.3.0, a first sync killed while reading from both
                                                         ends: its oldest-first position is kept; everything
                                                         after it is read again, the newest-first reader's
                                                         part included (duplicates, no loss)
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
    """Where a reader resumes: after `starting_after` (a real ID, or None: from the listing's start),
    skipping `already_read`, the IDs it read after that one."""

    starting_after: str | None = None
    already_read: tuple[str, ...] = ()


class Top(_Model):
    """Where a newest-first read started: its first event, `below`, the first real ID more than
    MARGIN_SECONDS under it (or under the recovery's floor), and `above`, every ID read before `below`."""

    eventID: str | None = None
    below: str | None = None
    above: tuple[str, ...] = ()


class Recovery(_Model):
    """A newest-first read from the top of the listing down to `floor_second`, because the saved position
    vanished: skipping `skip` (what was read before), resuming after its own `starting_after`."""

    floor_second: int | None = None  # None: the IDs carry no second, read to the bottom
    skip: tuple[str, ...] = ()
    starting_after: str | None = None
    already_read: tuple[str, ...] = ()
    top: Top = Top()

    @property
    def position(self) -> Position:
        return Position(starting_after=self.starting_after, already_read=self.already_read)


class BemState(_Model):
    eventID: str | None = None
    starting_after: str | None = None
    already_read: tuple[str, ...] = ()
    recovering: Recovery | None = None

    @property
    def position(self) -> Position:
        return Position(starting_after=self.starting_after, already_read=self.already_read)

    @classmethod
    def from_saved(cls, saved: Mapping[str, Any] | None) -> "BemState":
        """The state a sync saved, in any shape this connector ever wrote. Raises ValueError naming what is
        wrong with it."""
        if not saved:
            return cls()
        if not isinstance(saved.get("eventID"), str):
            raise ValueError("no `eventID` event ID")
        if "already_read" not in saved and "starting_after" not in saved:
            saved = {"eventID": saved["eventID"], "starting_after": saved["eventID"], "already_read": []}
        try:
            return cls.model_validate({key: value for key, value in saved.items() if key != "newest_first"})
        except ValidationError as error:
            where = ".".join(str(part) for part in error.errors()[0]["loc"])
            raise ValueError(f"`{where}` is not what this connector saves") from None

    def to_saved(self) -> dict[str, Any]:
        saved: dict[str, Any] = {
            "eventID": self.eventID,
            "starting_after": self.starting_after,  # written even when null: see the 0.2.x shape above
            "already_read": list(self.already_read),
        }
        if self.recovering is not None:
            saved["recovering"] = self.recovering.model_dump(mode="json")
        return saved
