"""Which ID a bem reader's next request names (`startingAfter`), and what an answer shows of how bem reads it.

Each request names the last ID before the page's last second (resume_after), not the page's last ID as the vendor's
SDK does: bem may resume after the *second* of the ID named (a keyset on a creation time kept to the second), or list
a second's events in a new order on each request, and resuming after the last ID would skip the rest of its second
either way (api-notes: "resume from a real earlier ID and drop duplicates"; adversary review of 0.5.17).

That holds while an ID's second is its event's creation second. IDs minted by clocks a second or two off (the
manifest's lookback text expects it) can put the ID named in the very creation second of the page's last events
(adversary review of 0.5.18: 99 of 1,055 events lost at pages of 7, 5 at 100). Naming an ID further back on every
page would re-read more of each page, at every busy second, for every user; so the answer to each request is checked
instead (Anchoring.shows_skipping). Read as documented, the events after the ID named on its page come first, in
their order; when they do not (some missing while newer ones follow, in another order, or events from before it
listed again), bem pages otherwise: from then on each request names an ID more than CAREFUL_MARGIN_SECONDS before
its page's last second (careful), and the reader asks once more from such an ID on the page before.
"""

from itertools import pairwise

from source_events.bem.ksuid import ksuid_seconds
from source_events.bem.state import MARGIN_SECONDS

# Two IDs' seconds may lie this far apart against their events' creation seconds: each a clock MARGIN_SECONDS off,
# one ahead and one behind. An ID further back than that from an event was created in an earlier second.
CAREFUL_MARGIN_SECONDS = 2 * MARGIN_SECONDS


def resume_after(ids: list[str], margin: int = 0) -> str:
    """The ID a page's next request names: the last one whose second lies more than `margin` seconds from the
    page's last second (either way: pages newest first go down), else the last one of another second, else (the
    whole page one second, or its IDs carry no second) the last ID."""
    last = ksuid_seconds(ids[-1])
    if last is None:
        return ids[-1]
    for far in (margin, 0) if margin else (0,):
        for event_id in reversed(ids):
            second = ksuid_seconds(event_id)
            if second is not None and abs(second - last) > far:
                return event_id
    return ids[-1]


def further_back(page: list[str], named: str | None) -> str | None:
    """An ID before `named` on its page whose second lies more than CAREFUL_MARGIN_SECONDS from its own (its event was
    created in an earlier second), else the page's first; `named` itself when it is the first or not on the page.
    Where a state says a reader stands: the first answer to a resumed reader comes without the page to check it."""
    if named is None or named not in page:
        return named
    second = ksuid_seconds(named)
    for event_id in reversed(page[: page.index(named)]):
        earlier = ksuid_seconds(event_id)
        if second is None or earlier is None or abs(second - earlier) > CAREFUL_MARGIN_SECONDS:
            return event_id
    return page[0]


class Anchoring:
    """The anchor rule both readers of a sync share: once an answer shows bem paging otherwise than documented,
    each request of either names an ID CAREFUL_MARGIN_SECONDS further back."""

    def __init__(self) -> None:
        self.careful = False
        self._recovered: set[str] = set()  # IDs named whose answers sent a reader back once already

    def resume_after(self, ids: list[str]) -> str:
        return resume_after(ids, CAREFUL_MARGIN_SECONDS if self.careful else 0)

    def note_order(self, ids: list[str], newest_first: bool) -> None:
        """An answer whose IDs' seconds go back along the listing (forward, newest first) shows bem listing by another
        time than its IDs', and the IDs' clocks off from it: the ID before a page's last second may then lie in the
        last second bem lists by, and an answer skipping the rest of it need not show it (a second's events in a new
        order on each request: 2 of 685 lost at pages of 100 with IDs 1 s off). Careful from this page on. Sorted by
        ID, or IDs minted by the listing's clock, seconds never go back."""
        seconds = [second for second in map(ksuid_seconds, ids) if second is not None]
        if newest_first:
            seconds.reverse()
        if any(later < earlier for earlier, later in pairwise(seconds)):
            self.careful = True

    def recovery(self, page: list[str], named: str | None, answer: list[str]) -> str | None:
        """`answer` came to a request naming `named`, an ID of the page before (`page`). When it shows bem paging
        otherwise than documented, the ID to ask after again: one before `named` on that page, far enough back that
        its second is earlier (else the page's first). None: nothing to ask again."""
        if named is None or named not in page or not self.shows_skipping(page, named, answer):
            return None
        self.careful = True
        at = page.index(named)
        if at == 0 or named in self._recovered:
            return None  # nothing before it on its page, or asked again from there already: the reader reads on
        self._recovered.add(named)
        return further_back(page, named) or named

    @staticmethod
    def shows_skipping(page: list[str], named: str, answer: list[str]) -> bool:
        """Whether `answer`, to a request naming `named` on `page`, is not what the documented reading lists: the
        page's events after `named` first, in their order (those deleted since missing), then newer ones."""
        at = page.index(named)
        before, following = set(page[:at]), page[at + 1 :]
        if any(event_id in before for event_id in answer):
            return True  # events from before the ID named listed again
        expected = set(following)
        listed = [event_id for event_id in answer if event_id in expected]
        if answer[: len(listed)] != listed or listed != [event_id for event_id in following if event_id in listed]:
            return True  # newer events before them, or they came in another order
        # some missing while newer events follow them: skipped (or deleted since; asking again costs a request)
        return len(listed) < len(following) and len(answer) > len(listed)
