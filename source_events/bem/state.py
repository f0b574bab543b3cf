"""bem's state: what a sync saves, as typed models, and every shape earlier versions saved (read here only).

Saved since 0.5.0 once a sync has read everything:

    {"eventID": "<the newest ID read>",
     "starting_after": "<a real ID the API listed, at least the lookback before eventID; null: the start>"}

and while a sync reads (checkpointed every page), also where each of its two readers stands
(source_events.bem.reading), so that a killed sync goes on from there:

    "reading": {"oldest_first": {"starting_after": <its last ID, or null: the start>, "done": false,
                                 "newest": <the newest ID it read>, "resume_after": <a real ID it read at least
                                 the lookback under that one, or null: the start>},
                "newest_first": {"starting_after": <its last ID, or null: the top>, "done": false,
                                 "top": {"eventID": <the first ID it read>, "below": <the first ID it read more
                                         than the lookback under it, or null>},
                                 "floor_second": <it stops under this second, or null>}}

Shapes of earlier versions, read and migrated by `BemState.from_saved`:

    {"eventID": X}                                      before 0.2.0: resume after X
    {"eventID": X, "already_read": [...]}                0.2.x left out a null starting_after: from the start
    {..., "starting_after": S, "already_read": [...]}    0.2.x-0.4.x: resume after S (the IDs read after it are
                                                         read again: the destination deduplicates them)
    {..., "recovering": {...}}                           0.4.x, killed while it recovered a vanished position:
                                                         its newest-first read goes on, down to its floor
    {..., "newest_first": {...}}                         0.3.0, a first sync killed while reading from both
                                                         ends: its oldest-first position is kept; everything
                                                         after it is read again (duplicates, no loss)
    {"eventID": null, "starting_after": S}              0.5.12, a sync resumed from a killed one: its lookback
                                                         under S is lost, the listing is read again from its start
    "oldest_first" without "newest", "resume_after"     0.5.0-0.5.12, while a sync reads: the lookback from the
                                                         sync's own start (`starting_after`: read again, no loss)
"""

import logging
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

LOGGER = logging.getLogger("airbyte")

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
    lookback under it."""

    eventID: str | None = None
    below: str | None = None


class OldestFirst(_Model):
    starting_after: str | None = None  # its last ID: it reads on after it (None: the listing's start)
    done: bool = False  # it read its whole part (up to the other reader, or the listing's end)
    # its lookback (source_events.bem.position), which a sync resumed from this state ends on: the newest ID it read,
    # and a real ID it read at least the lookback under that one (None: the start). 0.5.12 and before saved neither:
    # its last ID alone made a resumed sync end on a state without `eventID`, and resume the next one after it,
    # past the events the lookback reads again (adversary review).
    newest: str | None = None
    resume_after: str | None = None

    @property
    def keeps_its_lookback(self) -> bool:
        """Whether `newest` and `resume_after` were saved (0.5.13 and later): else they say nothing."""
        return {"newest", "resume_after"} <= self.model_fields_set


class NewestFirst(_Model):
    starting_after: str | None = None  # None: the top of the listing
    done: bool = False  # it read its whole part (down to the other reader, its floor, or the bottom)
    top: Top = Top()
    floor_second: int | None = None  # everything under this second was read before (None: read to the bottom)


class Reading(_Model):
    """Where a sync's two readers stand while it reads."""

    oldest_first: OldestFirst = OldestFirst()
    newest_first: NewestFirst = NewestFirst()


class BemState(_Model):
    eventID: str | None = None
    starting_after: str | None = None
    reading: Reading | None = None

    @property
    def position(self) -> Position:
        return Position(starting_after=self.starting_after, newest=self.eventID)

    @classmethod
    def from_saved(cls, saved: Mapping[str, Any] | None) -> "BemState":
        """The state a sync saved, in any shape this connector ever wrote. Raises ValueError naming what is
        wrong with it."""
        if not saved:
            return cls()
        if saved.get("eventID") is None and isinstance(saved.get("starting_after"), str) and not saved.get("reading"):
            # 0.5.12 could end a sync resumed from a killed one so, its lookback lost: what lies within it under the
            # position is not known, so the listing is read again from its start (the reset it needed in 0.5.12;
            # duplicates, never a gap), the position as the newest ID known
            saved = {**saved, "eventID": saved["starting_after"], "starting_after": None}
            LOGGER.warning(
                "Stream bem_events: the saved state has no `eventID` (0.5.12 wrote such states after a resumed sync): "
                "the listing is read again from its start, once (a deduplicating destination folds what it read before)."
            )
        if not isinstance(saved.get("eventID"), str) and not (saved.get("eventID") is None and saved.get("reading")):
            raise ValueError("no `eventID` event ID")  # only a first sync that is still reading has none yet
        if "already_read" not in saved and "starting_after" not in saved:
            saved = {**saved, "starting_after": saved["eventID"]}
        kept = {key: value for key, value in saved.items() if key not in ("newest_first", "already_read")}
        recovering = kept.pop("recovering", None)
        try:
            state = cls.model_validate(kept)
            if recovering is not None:  # 0.4.x: its newest-first read goes on alone (the position had vanished)
                recovered = _Recovering.model_validate(recovering)
                newest_first = NewestFirst(
                    starting_after=recovered.starting_after, top=recovered.top, floor_second=recovered.floor_second
                )
                state = state.model_copy(
                    update={"reading": Reading(oldest_first=OldestFirst(done=True), newest_first=newest_first)}
                )
            return state
        except ValidationError as error:
            where = ".".join(str(part) for part in error.errors()[0]["loc"])
            raise ValueError(f"`{where}` is not what this connector saves") from None

    def to_saved(self) -> dict[str, Any]:
        saved: dict[str, Any] = {"eventID": self.eventID, "starting_after": self.starting_after}
        if self.reading is not None:
            saved["reading"] = self.reading.model_dump(mode="json")
        return saved


class _Recovering(_Model):
    """0.4.x's `recovering`: a newest-first read down to its floor."""

    floor_second: int | None = None
    starting_after: str | None = None
    top: Top = Top()
