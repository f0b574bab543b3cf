"""WindowListing's overlap of a tie (pure logic: which request comes next for which answer). The reads through real
HTTP, with ties listed in another order on each request, are in integration_tests/test_adversary.py."""

import pytest

from source_events.flameup.listing import (
    MAX_REQUESTS_WITHOUT_PROGRESS,
    ListingChangedTooOften,
    ListingEvidence,
    Step,
    TieTooLongToRead,
    WindowListing,
    same_page,
    shows_the_clamp,
    tied_at_end,
    tied_at_start,
)
from source_events.flameup.page_size import PageSize
from source_events.flameup.seen import SeenEvents


def _event(timestamp: str, created_at: str = "2026-01-01T09:00:00.123456Z") -> dict:
    return {"id": timestamp + created_at, "timestamp": timestamp, "created_at": created_at}


def test_a_tie_is_counted_by_either_field_and_by_instant_not_by_spelling():
    page = [
        _event("2026-01-01T10:00:00Z"),
        _event("2026-01-01T10:00:01Z", "2026-01-01T10:00:05Z"),
        _event("2026-01-01T10:00:01.000Z", "2026-01-01T10:00:06Z"),
        _event("2026-01-01T10:00:01.000000Z", "2026-01-01T10:00:07Z"),
    ]
    assert tied_at_end(page) == 3  # by `timestamp`, spelled three ways
    by_created = [_event(f"2026-01-01T10:00:0{n}Z", "2026-01-01T10:00:09Z") for n in range(4)]
    assert tied_at_end(by_created) == 4  # by `created_at`
    untied = [_event("2026-01-01T10:00:00Z", "2026-01-01T10:00:02Z"), _event("2026-01-01T10:00:01Z")]
    assert tied_at_end(untied) == 1
    assert tied_at_end([]) == 1 and tied_at_end([{"id": "x"}]) == 1  # nothing to compare: the last event alone


def _at(second: int, key: str) -> dict:
    """An event `key` at 10:00:`second`, created a minute later plus as many seconds as its key is long (untied)."""
    return {
        "id": key,
        "timestamp": f"2026-01-01T10:00:{second:02d}Z",
        "created_at": f"2026-01-01T10:01:{len(key):02d}Z",
    }


def test_the_same_page_is_the_same_events_in_any_order_but_for_the_tie_it_starts_with():
    """The last page answered for an offset past a listing's end (offsets clamped) starts where the listing's end less
    a page falls: inside a tie listed in another order on each request, it holds other events of that tie each time."""
    page = [_at(1, "a"), _at(1, "bb"), _at(2, "ccc"), _at(3, "dddd"), _at(3, "eeeee")]
    assert same_page(page, page)
    assert same_page(page, [page[1], page[0], page[2], page[4], page[3]])  # reordered ties
    assert same_page(page, [_at(1, "ffffff"), page[0], *page[2:]])  # another event of the tie it starts with
    assert not same_page(page, [page[0], page[1], _at(2, "ffffff"), *page[3:]])  # another event past it
    assert not same_page(page, [_at(0, "ffffff"), page[1], *page[2:]])  # a start at another time
    assert not same_page(page, [_at(1, "ffffff"), _at(2, "ggggggg"), *page[2:]])  # a tie of another length at its start
    assert not same_page(page, page[:-1])
    assert same_page([], []) and not same_page([], page[:1])
    tie = [_at(1, "a"), _at(1, "bb")]
    assert same_page(tie, tie[::-1])
    assert not same_page(tie, [tie[0], _at(1, "ffffff")])  # a page of one tie: any stretch of a longer one would pass


def test_the_page_far_past_the_end_shows_the_clamp_only_when_it_holds_events_read_alone():
    """An event never read in it (another of the tie the page starts with, reordered) shows the tie was not read whole:
    taken for the end, it was lost with it (adversary review of 0.5.19's first fix)."""
    page = [_at(1, "a"), _at(1, "bb"), _at(2, "ccc")]
    unread_of_the_tie = [_at(1, "ffffff"), page[0], page[2]]
    seen = SeenEvents()
    seen.add([event["id"] for event in page])

    assert shows_the_clamp(page, [page[1], page[0], page[2]], seen)  # the tie reordered
    assert same_page(page, unread_of_the_tie) and not shows_the_clamp(page, unread_of_the_tie, seen)
    seen.add(["ffffff"])  # read before, by an earlier page
    assert shows_the_clamp(page, unread_of_the_tie, seen)


def _listing(limit: int, reordered: bool = False) -> WindowListing:
    """`reordered`: ties came back in another order earlier in the sync, so every tie is overlapped whole."""
    evidence = ListingEvidence()
    if reordered:
        evidence.saw_tie_reordered()
    return WindowListing(PageSize(limit), evidence)


def test_after_a_page_ending_in_a_tie_the_next_request_overlaps_its_last_event_alone():
    listing = _listing(10)
    listing.take([f"e{n}" for n in range(10)], tied=4)

    assert (listing.step, listing.offset) == (Step.ANCHORED, 9)


def test_an_answer_that_starts_at_the_tie_s_last_event_and_holds_only_new_ones_proves_its_order_held():
    """Exactly one of the tie's events came back twice: the two answers hold as many of its events as it has
    positions, in whatever order each listed them."""
    listing = _listing(10)
    listing.take([f"e{n}" for n in range(10)], tied=4)

    fresh = listing.take(["e9"] + [f"f{n}" for n in range(9)], tied=1, goes_on=3)
    assert fresh == [f"f{n}" for n in range(9)]
    assert (listing.step, listing.offset) == (Step.ANCHORED, 18)


@pytest.mark.parametrize(
    "answer",
    [
        ["e9", "e8", "f0", "f1", "f2", "f3", "f4", "f5", "f6", "f7"],  # an event of the tie came back twice...
        ["e7", "e9", "f0", "f1", "f2", "f3", "f4", "f5", "f6", "f7"],  # ...or the anchor is not at the top
        ["f0", "f1", "f2", "f3", "f4", "f5", "f6", "f7", "f8", "f9"],  # ...or not there at all
        [],
    ],
)
def test_any_other_answer_is_set_aside_and_the_page_asked_again_overlapping_the_whole_tie(answer):
    """Its events are read from the answer that follows, placed from the position before this one: an answer that
    may have moved places nothing (0.5.4's first take emitted them, and a later step back anchored on them past an
    event not read)."""
    listing = _listing(10)
    listing.take([f"e{n}" for n in range(10)], tied=4)

    assert listing.take(answer, tied=1, goes_on=2) == []
    assert (listing.step, listing.offset) == (Step.TIE_AGAIN, 6)  # from the position before the doubtful answer
    assert listing.take(["e6", "e7", "e8", "e9"] + answer[-6:], tied=1) == answer[-6:]


@pytest.mark.parametrize("evidence_of", ["reordered", "moved", "short pages"])
def test_evidence_against_a_tie_s_order_has_every_later_tie_overlapped_whole_from_the_start(evidence_of):
    """Ties came back reordered, a listing moved under its reader (a step back), or pages are filtered after cutting:
    the answer overlapping a tie's last event alone can no longer prove its order held."""
    evidence = ListingEvidence()
    {
        "reordered": evidence.saw_tie_reordered,
        "moved": evidence.saw_listing_move,
        "short pages": evidence.saw_short_page_mid_listing,
    }[evidence_of]()
    listing = WindowListing(PageSize(10), evidence)
    listing.take([f"e{n}" for n in range(10)], tied=4)

    assert evidence.ties_doubted and (listing.step, listing.offset) == (Step.ANCHORED, 6)


def test_a_tie_seen_in_another_order_has_every_later_tie_overlapped_whole_from_the_start():
    evidence = ListingEvidence()
    listing = WindowListing(PageSize(10), evidence)
    listing.take([f"e{n}" for n in range(10)], tied=4)
    listing.take(["e9", "e8", "f0", "f1", "f2", "f3", "f4", "f5", "f6", "f7"], tied=1)  # e8 after e9: reordered
    assert evidence.ties_reordered

    listing.take(["e9", "e6", "e8", "e7", "f0", "f1", "f2", "f3", "f4", "f5"], tied=3)  # the whole tie again
    assert (listing.step, listing.offset) == (Step.ANCHORED, 13)  # its next tie: overlapped whole (3)


def test_a_tie_moved_in_order_by_events_added_before_it_is_no_evidence_of_reordering():
    evidence = ListingEvidence()
    listing = WindowListing(PageSize(10), evidence)
    listing.take([f"e{n}" for n in range(10)], tied=4)

    listing.take(["e8", "e9", "f0", "f1", "f2", "f3", "f4", "f5", "f6", "f7"], tied=1)  # one event added before
    assert listing.step is Step.TIE_AGAIN and not evidence.ties_reordered


def test_a_tie_longer_than_a_page_listed_in_the_same_order_is_read_a_page_a_request():
    listing = _listing(10)
    listing.take([f"e{n:02}" for n in range(10)], tied=10)
    assert listing.offset == 9

    fresh = listing.take([f"e{n:02}" for n in range(9, 19)], tied=10, goes_on=10)
    assert fresh == [f"e{n:02}" for n in range(10, 19)] and listing.offset == 18


def test_once_ties_came_back_reordered_the_next_request_overlaps_the_whole_tie_a_full_page_ends_in():
    listing = _listing(10, reordered=True)
    listing.take([f"e{n}" for n in range(10)], tied=4)

    assert (listing.step, listing.offset) == (Step.ANCHORED, 6)


def test_a_tie_filling_the_page_is_overlapped_but_for_its_first_event():
    listing = _listing(10, reordered=True)
    listing.take([f"e{n}" for n in range(10)], tied=10)

    assert listing.offset == 1


def test_a_short_page_ending_in_a_tie_is_asked_again_overlapping_it_then_ends_on_an_empty_page():
    listing = _listing(10)
    listing.take(["a", "b", "c", "d"], tied=2)
    assert (listing.step, listing.offset) == (Step.ANCHORED, 3)

    # the tie comes back in another order: asked again, whole; nothing follows it: the position is confirmed
    assert listing.take(["c"], tied=1) == []
    assert (listing.step, listing.offset) == (Step.TIE_AGAIN, 2)
    assert listing.take(["d", "c"], tied=2) == []
    assert (listing.step, listing.offset) == (Step.AFTER, 4)
    listing.take([])
    assert listing.done


def test_a_tie_filling_the_page_that_comes_back_in_another_order_fails_rather_than_skips():
    listing = _listing(10, reordered=True)
    listing.take([f"e{n}" for n in range(10)], tied=10)  # e1..e9 overlapped

    with pytest.raises(TieTooLongToRead):  # the tie goes on past the page (10 of its events lead this answer)
        listing.take(["e2", "e1", "e3", "e4", "e5", "e6", "e7", "e8", "e9", "g0"], tied=10, goes_on=10)


def test_a_tie_filling_the_page_that_comes_back_moved_but_in_order_reads_on():
    """Events deleted or added meanwhile move a tie, never reorder it."""
    listing = _listing(10, reordered=True)
    listing.take([f"e{n}" for n in range(10)], tied=10)

    fresh = listing.take(["e3", "e4", "e5", "e6", "e7", "e8", "e9", "f0", "f1", "f2"], tied=1)
    assert fresh == ["f0", "f1", "f2"]
    assert (listing.step, listing.offset) == (Step.ANCHORED, 10)


def test_an_event_listed_twice_in_the_overlap_is_no_reordering():
    listing = _listing(10, reordered=True)
    listing.take([f"e{n}" for n in range(10)], tied=10)

    fresh = listing.take(["e1", "e1", "e2", "e3", "e4", "e5", "e6", "e7", "e8", "e9"], tied=10)
    assert fresh == []


def test_a_tie_is_counted_on_into_the_next_page_by_either_field():
    last = _event("2026-01-01T10:00:05Z", "2026-01-01T10:00:09Z")
    page = [
        _event("2026-01-01T10:00:05.000Z", "2026-01-01T10:00:08Z"),
        _event("2026-01-01T10:00:05Z"),
        _event("2026-01-01T10:00:04Z"),
    ]

    assert tied_at_start(page, last) == 2
    assert tied_at_start(page, None) == 0 and tied_at_start([], last) == 0


def test_a_tie_exactly_filling_the_page_that_comes_back_reordered_is_read_on():
    """The next answer shows the tie ending where the page ended (its other events have another time): the page
    held it whole, so its order no longer matters."""
    listing = _listing(10, reordered=True)
    listing.take([f"e{n}" for n in range(10)], tied=10)

    fresh = listing.take(["e2", "e1", "e3", "e4", "e5", "e6", "e7", "e8", "e9", "f0"], tied=1, goes_on=9)
    assert fresh == ["f0"]


@pytest.mark.parametrize("reordered", [False, True])
def test_at_pages_of_two_a_tie_filling_the_page_that_comes_back_in_another_order_fails_rather_than_skips(reordered):
    """The request after a page of two overlaps one event: the answer's order is checked against the whole tie the
    page held, not the one event overlapped (0.5.4 compared that one event alone, so no reorder could show)."""
    listing = _listing(2, reordered)
    listing.take(["a", "b"], tied=2)
    assert listing.offset == 1

    with pytest.raises(TieTooLongToRead):
        listing.take(["b", "a"], tied=2, goes_on=2)


def test_a_full_page_ending_on_the_last_event_read_in_a_tie_is_overlapped_not_read_past():
    """The page before cut a tie after its first event (d): it looked like no tie, and the next answer lists the tie
    with d last. d may be listed anywhere in it on the next request; reading past it (0.5.4: the page after the
    position, no overlap) skipped the tie's events listed before d that time."""
    listing = _listing(4, reordered=True)
    listing.take(["p", "q", "r", "d"], tied=1)
    assert listing.offset == 3

    assert listing.take(["x", "y", "z", "d"], tied=4, goes_on=4) == ["x", "y", "z"]
    assert (listing.step, listing.offset) == (Step.ANCHORED, 4)  # the tie overlapped, but for its first event


def test_an_event_listed_twice_in_a_page_long_tie_is_no_reordering():
    listing = _listing(2)
    listing.take(["a", "a"], tied=2)

    assert listing.take(["a", "b"], tied=2, goes_on=2) == ["b"]


def test_a_reordered_page_long_tie_seen_with_pages_filtered_after_cutting_says_so():
    """Its hidden events hold positions, and a tie that fits a page can seem to go on past it: the failure says
    the pages are filtered, not that the tie is longer than a page."""
    evidence = ListingEvidence()
    evidence.saw_short_page_mid_listing()
    listing = WindowListing(PageSize(2), evidence)
    listing.take(["a", "b"], tied=2)

    with pytest.raises(TieTooLongToRead) as failure:
        listing.take(["b", "a"], tied=2, goes_on=2)
    assert failure.value.filtered


def _ids(first: int, end: int) -> list[str]:
    return [f"e{n}" for n in range(first, end)]


def test_an_answer_asked_past_a_short_page_is_emitted_but_placed_only_once_the_position_shows_it_held():
    """A first page of 5 at `limit=20` looks like the end; the request past it asks with no overlap. The 2 oldest
    events deleted meanwhile made that request skip 2 (0.5.5 read on from its answer: 2 lost, exit code 0). Its
    events exist: they are emitted. The last event read is asked again: alone where it was, the position held on
    both sides of the answer, which is then read on from."""
    listing = _listing(20)
    listing.take(_ids(0, 5))
    assert (listing.step, listing.offset) == (Step.AFTER, 5)

    assert listing.take(_ids(7, 10)) == _ids(7, 10)  # emitted
    assert (listing.step, listing.offset) == (Step.RECHECK, 4)
    assert listing.take(["e4"]) == []  # where it was: placed
    assert listing.placed_set_aside
    assert (listing.step, listing.offset) == (Step.AFTER, 8)  # read on from the answer set aside (short: past it)


def test_a_recheck_that_shows_the_listing_moved_steps_back_and_the_answer_set_aside_anchors_nothing():
    listing = _listing(20)
    listing.take(_ids(0, 20))
    listing.take(_ids(19, 22))  # short
    assert (listing.step, listing.offset) == (Step.AFTER, 22)
    assert listing.take(["e24", "e25"]) == ["e24", "e25"]  # e0 and e1 deleted meanwhile: e22 and e23 skipped
    assert (listing.step, listing.offset) == (Step.RECHECK, 21)

    assert listing.take(["e23", "e24", "e25"]) == ["e23"]  # e21 is not where it was
    assert listing.step is Step.STEP_BACK and not listing.placed_set_aside
    step_back = listing.offset
    listing.take(["e24", "e25"])  # only events set aside: where they lie is unknown
    assert listing.step is Step.STEP_BACK and listing.offset < step_back
    assert listing.take(_ids(2, 22)) == []  # from the listing's start
    assert listing.take(_ids(21, 26)) == ["e22"]


def test_events_of_an_answer_no_event_of_which_was_placed_anchor_nothing_until_one_of_them_is():
    """An answer holding no event read in place (the listing moved) is emitted; a step back answered with some of
    its events and an event not read says nothing of what lies between them and the last event read (0.5.5 read
    on from them: 1 lost). Once an anchored answer holds one of its events, all of them are placed: the answer was
    contiguous when it came."""
    listing = _listing(5)
    listing.take(_ids(0, 5))
    listing.take(_ids(4, 9))
    assert (listing.step, listing.offset) == (Step.ANCHORED, 8)
    assert listing.take(_ids(12, 17)) == _ids(12, 17)  # e8 gone from there: the listing moved
    assert listing.step is Step.STEP_BACK
    assert listing.take(_ids(11, 16)) == ["e11"]  # no event placed: e9 and e10 may lie between e8 and e11
    assert listing.step is Step.STEP_BACK
    assert listing.take(_ids(5, 10)) == ["e9"]  # from the start (e0-e4 deleted): e5-e8 placed, e9 read on from
    assert listing.take(_ids(9, 14)) == ["e10"]  # e9 anchors; e11-e13 placed, and with them all of e11-e16
    assert listing.take(["e16", "e17"]) == ["e17"]  # e13 deleted: e16, placed with its answer, anchors


@pytest.mark.parametrize("filtered", [True, False])
def test_at_pages_of_one_event_the_position_is_confirmed_on_both_sides_of_the_empty_page(filtered):
    """An overlapping request at pages of one holds the last event read alone: each next one is asked past it and
    placed by a recheck; the empty page is trusted once the last event read is found where it was again. Without
    pages filtered after cutting too: every page is full, and no short page showed the listing's end there."""
    evidence = ListingEvidence()
    if filtered:
        evidence.saw_short_page_mid_listing()
    listing = WindowListing(PageSize(1), evidence)
    listing.take(["e0"])
    assert (listing.step, listing.offset) == (Step.AFTER, 1)
    listing.take(["e1"])
    assert (listing.step, listing.offset) == (Step.RECHECK, 0)
    listing.take(["e0"])
    assert (listing.step, listing.offset) == (Step.AFTER, 2)  # two requests an event, not three
    listing.take([])
    assert (listing.step, listing.offset) == (Step.CONFIRM, 1)
    listing.take(["e1"])
    assert listing.done


def test_at_pages_of_one_event_an_empty_page_after_a_deletion_before_the_position_ends_nothing():
    """e0 deleted before the request past e1: it skipped e2, now at e1's place. The confirming request finds e2
    where e1 was: the listing moved, and the reader steps back and reads e2."""
    listing = WindowListing(PageSize(1), ListingEvidence())
    for answer in (["e0"], ["e1"], ["e0"]):
        listing.take(answer)
    assert (listing.step, listing.offset) == (Step.AFTER, 2)
    listing.take([])  # asked past e2
    assert (listing.step, listing.offset) == (Step.CONFIRM, 1)
    assert listing.take(["e2"]) == ["e2"]
    assert listing.step is Step.STEP_BACK
    listing.take(["e1"])
    assert not listing.done


def _ids(first: int, end: int) -> list[str]:
    return [f"e{n}" for n in range(first, end)]


@pytest.mark.parametrize("filtered", [True, False])
def test_a_short_page_that_ends_in_the_last_event_read_is_read_on_overlapping_it_where_pages_are_filtered(filtered):
    """Pages filtered after cutting end short anywhere: a step back answered by a short page ending in the last
    event read is followed by a request overlapping it, not by one asking past it (placing that answer needs two
    more requests with no deletion between, which steady retention never leaves). Without filtering the short
    page is the listing's end, and the request past it (empty) ends the listing."""
    evidence = ListingEvidence()
    if filtered:
        evidence.saw_short_page_mid_listing()
    listing = WindowListing(PageSize(10), evidence)
    listing.take(_ids(0, 10))
    listing.take(["e12", "e13"])  # e0, e1 deleted, e10, e11 hidden: nothing read before
    assert (listing.step, listing.offset) == (Step.STEP_BACK, 0)
    listing.take(_ids(1, 10))  # short, ending in e9
    assert (listing.step, listing.offset) == ((Step.ANCHORED, 7) if filtered else (Step.AFTER, 9))


def test_after_steps_back_in_a_row_the_next_request_overlaps_one_more_event_each():
    """A deletion before each request moves the last event read away from an overlap of one: after each step back
    the overlap grows by one event (up to half a page), so the next answer still holds an event read."""
    evidence = ListingEvidence()
    evidence.saw_short_page_mid_listing()
    listing = WindowListing(PageSize(10), evidence)
    listing.take(_ids(0, 10))
    listing.take(["e12", "e13"])
    listing.take(_ids(1, 10))
    assert (listing.step, listing.offset) == (Step.ANCHORED, 9 - 2)
    listing.take(["e12", "e13"])  # e9 moved away again
    assert (listing.step, listing.offset) == (Step.STEP_BACK, 0)
    listing.take(_ids(2, 10))
    assert (listing.step, listing.offset) == (Step.ANCHORED, 8 - 3)
    assert listing.take(["e7", "e8", "e9", "e12", "e13", "e14"]) == ["e14"]
    assert (listing.step, listing.offset) == (Step.ANCHORED, 11 - 1)  # read on: back to an overlap of one


def test_a_listing_whose_answers_never_hold_a_new_event_fails_named_rather_than_pages_forever():
    """Whatever the answers, a listing reads a new event, ends, or fails within a bounded number of requests: here
    each answer repeats events read, ending in the last one, and every request asks deeper."""
    evidence = ListingEvidence()
    evidence.saw_short_page_mid_listing()
    listing = WindowListing(PageSize(10), evidence)
    listing.take(_ids(0, 10))
    offsets = []
    with pytest.raises(ListingChangedTooOften, match="read no new event"):
        for _ in range(MAX_REQUESTS_WITHOUT_PROGRESS + 1):
            offsets.append(listing.offset)
            listing.take(_ids(5, 10))
    assert len(offsets) == MAX_REQUESTS_WITHOUT_PROGRESS + 1 and offsets[-1] > offsets[0]


@pytest.mark.parametrize("newest_first", [False, True])
def test_a_listing_that_moves_under_the_reader_on_every_request_is_read_while_each_step_back_reads_on(newest_first):
    """Steps back are bounded in a row, not in all: a long window whose listing moves on every request (retention
    deleting the oldest events while the listing pages) is read, not failed after 24 moves."""
    events = _ids(0, 800)
    listing, read = _listing(10), set()
    while not listing.done:
        del events[:2]  # the two oldest, before each request
        listed = events[::-1] if newest_first else events
        read |= set(listing.take(listed[listing.offset : listing.offset + 10]))
    assert set(events) <= read and len(events) < 700
