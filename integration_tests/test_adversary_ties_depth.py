"""Adversary review of ties overlapped whole (listing.tied_at_end, TieTooLongToRead, `_empty_overlaps`), the check
beyond a listing's end spared by ServedDepth, and the emulator's `beyond_max_offset="empty_page"`. Each test is a
scenario the fuzzing found, seeded, over real HTTP: a correct connector reads every event exactly once or fails
the sync naming the cause. The xfail ones are losses (or misdiagnosed failures) the connector has today."""

import random
from datetime import datetime, timedelta, timezone

import pytest

from source_events.emulator import FlameupBehaviour
from source_events.emulator.datasets import flameup_events
from source_events.emulator.sample import WORKSPACE_ID
from source_events.emulator.server import Deletion, Fault
from testkit.builders import FLAMEUP, a_flameup_event, flameup_ties, iso
from testkit.emulator import full_flameup_sync, keys
from testkit.tie_fuzz import one_sync

_DELETION_UNDER_A_TIE = (
    "listing.py: a deletion before the position moves the listing down one; the overlap of a whole tie still finds "
    "the last event read (it may sit anywhere in a reordered tie), so the move goes unseen and the request skips "
    "one position: the tie member reordered into it, unread, is lost (stable order loses nothing: the skipped "
    "position holds an event already read). A tie split so that the page holds one of its events looks like no "
    "tie at all: the next request overlaps that event alone"
)
_CAP_BELOW_A_PAGE = (
    "probes.FlameupProbes first look / depth.ReadSoFar.page_deep: with a depth cap below Flameup's page cap, the "
    "first page is empty ('empty_page': a page reaching past the cap is answered empty whole) or cut short with the "
    "probe after it empty ('empty'); the range is taken as empty or one page, no listing goes a full page deep, and "
    "nothing checks beyond it"
)


def _exactly_once_or_failed(output, bounds, scenario: str) -> None:
    """Every event that existed throughout once, none twice, or a failed sync (never a quiet loss)."""
    assert not _quietly_lost(output, bounds, scenario)


def _quietly_lost(output, bounds, scenario: str) -> list[str]:
    """What a sync that succeeded lost or emitted twice, said with its scenario; nothing for a failed sync."""
    if output.errors:
        return []
    emitted = keys(output, FLAMEUP)
    lost, twice = bounds.must - set(emitted), len(emitted) - len(set(emitted))
    if lost or twice:
        return [f"{scenario}: {len(lost)} of {len(bounds.must)} lost, {twice} twice, exit code 0"]
    return []


# Each loss below depends on which request a change lands on and on the order drawn for each tie, so the
# scenarios are checked together: the strict xfail holds while any of them loses an event. (A change of the requests
# sent, such as 0.5.4's first page taken from the first look, moves the losses between these scenarios.)
_HIDDEN = [  # ties of up to 2 and 4 at pages of 2, 30 % hidden, the second with a depth cap (0.5.3 lost in both)
    (2, 200, 2, FlameupBehaviour(tie_order="per_request", limit_cap=2, hidden_share=0.3)),
    (
        14,
        200,
        4,
        FlameupBehaviour(
            tie_order="per_request", limit_cap=2, hidden_share=0.3, max_offset=50, beyond_max_offset="empty_page"
        ),
    ),
]


def test_ties_reordered_on_each_request_with_pages_filtered_after_cutting_lose_no_event_quietly():
    """Ties listed in another order on each request, 30 % of events hidden: 0.5.5 lost an event of a tie in the one
    with a depth cap, and the sync succeeded. Over 40 such fuzzed syncs at pages of 2 to 5
    (`scripts/fuzz_flameup_ties.py --change hidden`), 0.5.3 lost events in 13, 0.5.4 in 12, 0.5.5 in 6, 0.5.6 in
    none: an answer asked past a short page is placed only once the position shows it held, and an answer read
    where the listing moved anchors nothing until one of its events is placed (listing.Unplaced)."""
    lost = []
    for seed, count, longest, behaviour in _HIDDEN:
        output, bounds, _ = full_flameup_sync(flameup_ties(seed, count, longest), behaviour)
        lost += _quietly_lost(output, bounds, f"seed {seed}, pages of {behaviour.limit_cap}")
    assert not lost, lost


def test_fuzzed_ties_reordered_on_each_request_with_pages_filtered_after_cutting_lose_no_event_quietly():
    """Two of the six fuzzed syncs that 0.5.5 lost events in, 30 % of events hidden (`scripts/fuzz_flameup_ties.py
    --change hidden --seeds 1000 1040`): read, or failed naming the cause."""
    lost = [
        f"seed {seed}: {outcome} lost"
        for seed in (1001, 1003)
        if isinstance(outcome := one_sync(seed, "hidden"), int) and outcome
    ]
    assert not lost, lost


def test_the_check_past_a_listings_end_with_pages_filtered_after_cutting_reaches_the_end_it_pages_to():
    """Fuzzed seed 1022 (`--change hidden`): ties reordered on each request, 30 % hidden, pages of 3. The check past
    a part's end pages through a tie asked again from before it, at pages of one visible event; bounded by pages, it
    gave up before the empty page past the hidden events' positions, each reading of the part again did the same,
    and the sync failed as "Flameup stops serving a listing" with nothing unread. Bounded by positions, it reads."""
    assert one_sync(1022, "hidden") == 0


_DELETIONS = [
    (120, 10, 2, 200, False, "created_at", dict(where="random", at_request=12, count=1, repeat_every=3, times=5)),
    (134, 7, 2, 200, True, "created_at", dict(where="random", at_request=14, count=1, repeat_every=5, times=4)),
    (137, 3, 2, 400, True, "timestamp", dict(where="random", at_request=17, count=2, repeat_every=2, times=7)),
    (156, 7, 5, 200, False, "timestamp", dict(where="random", at_request=7, count=1, repeat_every=7, times=8)),
    (1002, 10, 2, 200, False, "created_at", dict(where="random", at_request=7, count=2, repeat_every=3, times=8)),
    (1020, 3, 2, 300, False, "created_at", dict(where="oldest", at_request=12, count=1, repeat_every=4, times=5)),
    # retention deleting the oldest events under an oldest-first listing: before the reader's position
    (2, 5, 3, 300, False, "timestamp", dict(where="oldest", at_request=5, count=2, repeat_every=3, times=6)),
    (3, 5, 3, 300, True, "timestamp", dict(where="last_served", at_request=5, count=2, repeat_every=3, times=6)),
]


# seeds of `scripts/fuzz_flameup_ties.py --change late-events / none / hidden` that 0.5.4 lost events in, exit code 0: a page
# ending on the last event read in a tie read past without overlap, and pages of 2 whose one-event overlap could
# never show a reorder
_LOST_BY_054 = [
    ("late-events", 3014),  # pages of 2, ties of up to 4
    ("late-events", 3041),  # pages of 2, ties of up to 2 before events arrive in them
    ("late-events", 3045),  # pages of 4, ties of up to 8
    ("late-events", 3071),  # pages of 2, ties of up to 2 before events arrive in them
    ("none", 3039),  # pages of 2, ties of up to 3, nothing changes
    ("none", 3072),  # pages of 3, ties of up to 6
    ("hidden", 1015),  # pages of 2 to 5, 30 % of events hidden: now fails naming the tie and the filtered pages
    ("hidden", 1030),
]


@pytest.mark.parametrize("change, seed", _LOST_BY_054)
def test_ties_reordered_on_each_request_longer_than_a_page_are_read_or_fail_naming_the_cause(change, seed):
    outcome = one_sync(seed, change)

    assert outcome == 0 or (isinstance(outcome, str) and "share a time" in outcome), f"{outcome} lost, exit code 0"
    if change == "hidden" and isinstance(outcome, str):
        assert "filters pages after cutting them" in outcome


@pytest.mark.xfail(strict=True, reason=_DELETION_UNDER_A_TIE)
def test_ties_reordered_on_each_request_while_events_are_deleted_lose_no_event_quietly():
    """Events deleted before the reader's position while a window pages, ties (shorter than a page) listed in another
    order on each request: in some of these scenarios 1 to 3 events that existed throughout the sync are lost, exit
    code 0 (0.5.3 lost 10 events in 7 of them, 0.5.4 2 in 2: which ones moves with any change of the requests
    sent)."""
    lost = []
    for seed, cap, longest, count, newest_first, filter_field, deletion in _DELETIONS:
        behaviour = FlameupBehaviour(
            tie_order="per_request", limit_cap=cap, newest_first=newest_first, filter_field=filter_field
        )
        changes = [Deletion(api="flameup", seed=seed, **deletion)]
        output, bounds, _ = full_flameup_sync(flameup_ties(seed, count, longest), behaviour, changes)
        lost += _quietly_lost(output, bounds, f"seed {seed}, pages of {cap}")
    assert not lost, lost


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_ties_reordered_on_each_request_while_the_oldest_are_deleted_behind_a_newest_first_reader_are_read(seed):
    """What held: retention deleting the oldest events while a newest-first listing pages (past the reader's
    position, so no offset moves), with reordered ties: every event that existed throughout, once."""
    behaviour = FlameupBehaviour(tie_order="per_request", limit_cap=5)
    changes = [Deletion(at_request=5, api="flameup", where="oldest", count=2, repeat_every=3, times=6, seed=seed)]
    output, bounds, _ = full_flameup_sync(flameup_ties(seed, 300, 3), behaviour, changes)

    assert not output.errors
    _exactly_once_or_failed(output, bounds, "oldest deleted, newest first")


@pytest.mark.xfail(strict=True, reason=_CAP_BELOW_A_PAGE)
@pytest.mark.parametrize("beyond_max_offset", ["empty_page", "empty"])
def test_a_depth_cap_below_flameups_page_cap_loses_no_event_quietly(beyond_max_offset):
    """Pages of 100 served, nothing past position 50: 'empty_page' answers every first page empty (300 of 300 lost),
    'empty' cuts it to 50 and the probe after it is empty (250 of 300 lost); exit code 0 both."""
    events = flameup_ties(5, 300, 1)
    behaviour = FlameupBehaviour(limit_cap=100, max_offset=50, beyond_max_offset=beyond_max_offset)
    output, bounds, sent = full_flameup_sync(events, behaviour)

    assert len(sent) <= 4  # the first look, its probe, and a window's one or two pages
    _exactly_once_or_failed(output, bounds, f"depth cap 50 below pages of 100, {beyond_max_offset}")


def test_a_depth_cap_below_flameups_page_cap_that_refuses_is_read_or_fails():
    """What held: the same cap answered with a 400 is never a quiet loss."""
    behaviour = FlameupBehaviour(limit_cap=100, max_offset=50, beyond_max_offset="reject")
    output, bounds, _ = full_flameup_sync(flameup_ties(5, 300, 1), behaviour)

    _exactly_once_or_failed(output, bounds, "depth cap 50 below pages of 100, reject")


@pytest.mark.parametrize("newest_first", [True, False])
def test_a_tie_shorter_than_a_page_at_a_listings_end_is_read(newest_first):
    """Ties of up to 4 at pages of 5, no hidden events, no depth cap: each tie fits in one answer, so the sync must
    read them all. It fails instead, saying more events share a time than a page holds."""
    rng = random.Random(4)
    base = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(hours=1)
    events = [a_flameup_event(iso(base + timedelta(seconds=n)), rng) for n in range(3)]
    events += [a_flameup_event(iso(base + timedelta(seconds=10)), rng) for _ in range(4)]  # the listing's end
    behaviour = FlameupBehaviour(tie_order="per_request", limit_cap=5, newest_first=newest_first)
    if newest_first:  # the tie at the listing's end: the oldest second
        events = [a_flameup_event(iso(base - timedelta(seconds=10)), rng) for _ in range(4)] + events[:3]
    output, bounds, _ = full_flameup_sync(events, behaviour)

    errors = " ".join(message.trace.error.message for message in output.errors)
    assert not errors, errors
    _exactly_once_or_failed(output, bounds, "a tie of 4 at pages of 5")


def _dense(count: int, per_second: int, seed: int = 1):
    """`count` events, `per_second` a second, each at its own microsecond (no ties at all)."""
    rng = random.Random(seed)
    base = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(hours=2)
    return [
        a_flameup_event(iso(base + timedelta(seconds=n // per_second, microseconds=1000 * (n % per_second) + 1)), rng)
        for n in range(count)
    ]


@pytest.mark.parametrize("beyond_max_offset", ["empty", "empty_page", "reject"])
def test_a_depth_reached_by_a_few_seconds_of_events_loses_no_event_past_them(beyond_max_offset):
    """Pages of 5, no deeper than position 20 (answered empty past it, or refused), 8 events a second, no ties,
    stable order, nothing changes: the listing reads the 20 newest events (2.5 seconds). 0.5.5 lost 280 of the 300,
    exit code 0: the check beyond reached two seconds into the events read, so it was asked past the depth, and the
    empty answer there was taken as the end. Now the part beyond reaches only the edge event's second, an empty
    answer deeper than Flameup served is no evidence, and the sync steps back 20 events at a time: every event,
    once. (Found by the adversary review of 0.5.5.)"""
    behaviour = FlameupBehaviour(limit_cap=5, max_offset=20, beyond_max_offset=beyond_max_offset)
    output, bounds, _ = full_flameup_sync(_dense(300, 8), behaviour)

    assert not output.errors, [m.trace.error.message for m in output.errors]
    _exactly_once_or_failed(output, bounds, f"depth 20 answered {beyond_max_offset}, 8 events a second")


def _spread_ties(seed: int, count: int, longest: int):
    """`count` events in ties of 1 to `longest`, 1, 2 or 5 seconds apart, some at a fraction of a second."""
    rng = random.Random(seed)
    base = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(hours=2)
    events, second = [], 0
    while len(events) < count:
        moment = base + timedelta(seconds=second, microseconds=rng.choice([0, 0, 250_000]))
        second += rng.choice([1, 1, 1, 2, 5])
        events += [a_flameup_event(iso(moment), rng) for _ in range(rng.randint(1, longest))]
    return events[:count]


def test_ties_of_a_page_reordered_under_a_depth_flameup_refuses_past_lose_no_event_quietly():
    """Ties of at most 2 at pages of 2 listed in another order on each request, no deeper than position 20 (400 past
    it), newest first, nothing changes: 0.5.5 lost 1 of 300, exit code 0 (found by the adversary review of 0.5.5);
    read whole since 0.5.6, which places no answer asked past a short page until the position shows it held."""
    behaviour = FlameupBehaviour(
        tie_order="per_request",
        limit_cap=2,
        newest_first=True,
        since_inclusive=False,
        until_inclusive=True,
        compare_precision="second",
        max_offset=20,
        beyond_max_offset="reject",
    )
    output, bounds, _ = full_flameup_sync(_spread_ties(215, 300, 2), behaviour)

    _exactly_once_or_failed(output, bounds, "ties of 2 reordered, depth 20 refused past")


def test_a_tie_cut_by_a_depth_at_a_windows_oldest_edge_is_read_whole_when_ties_are_reordered():
    """Eight events a second apart and a tie of three at the oldest second; pages of 5, no deeper than position 10
    (a page reaching past it cut short), ties listed in another order on each request: the listing reads 10 of the
    11 events. 0.5.5's check beyond its end skipped the tie's two events read by their count, landed on one of them
    listed in another order, and took the tie's third as read, exit code 0. The check now skips only the events
    read that do not share the edge event's time. (Found by the adversary review of 0.5.5.)"""
    rng = random.Random(0)
    base = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(hours=1)
    events = [a_flameup_event(iso(base), rng) for _ in range(3)]
    events += [a_flameup_event(iso(base + timedelta(seconds=n)), rng) for n in range(1, 9)]
    behaviour = FlameupBehaviour(tie_order="per_request", limit_cap=5, max_offset=10, beyond_max_offset="empty")
    output, bounds, _ = full_flameup_sync(events, behaviour)

    _exactly_once_or_failed(output, bounds, "a tie of 3 at the edge of a depth of 10, reordered")


@pytest.mark.parametrize("beyond_max_offset", ["empty", "empty_page", "reject"])
def test_an_event_read_deleted_before_the_check_past_a_depth_moves_no_unread_event_out_of_its_sight(beyond_max_offset):
    """Events a second apart, newest first, pages of 5, served no deeper than position 20 (answered empty or cut
    short past it, or refused): the listing reads all but the oldest, which lies past the depth. Just before the
    check past the listing's end, the oldest event read is deleted (retention): the unread event moves up to where
    the check's offset (the events read its part lists) skipped it, and 0.5.7 took the empty answer past it as the
    end, exit code 0. The check now overlaps the last event read it skips, so its answer shows the unread one
    (found by the adversary review of 0.5.8)."""
    events = _dense(18 if beyond_max_offset == "reject" else 21, 1)
    oldest, edge = events[0], events[1]  # the oldest, past the depth; the oldest the listing reads
    behaviour = FlameupBehaviour(limit_cap=5, max_offset=20, beyond_max_offset=beyond_max_offset)
    *_, untouched = full_flameup_sync(list(events), behaviour)
    check = 1 + next(n for n, request in enumerate(untouched) if request["until"] != untouched[0]["until"])
    # Deletion(where="random") draws with random.Random(f"Deletion flameup {request} {seed}"): the seed drawing the edge
    seed = next(s for s in range(10_000) if random.Random(f"Deletion flameup {check} {s}").sample(events, 1)[0] is edge)

    output, bounds, _ = full_flameup_sync(
        list(events), behaviour, [Deletion(api="flameup", where="random", at_request=check, count=1, seed=seed)]
    )

    assert edge["id"] not in bounds.must and oldest["id"] in bounds.must  # the deletion fired, on the edge event
    assert not output.errors, [m.trace.error.message for m in output.errors]
    _exactly_once_or_failed(
        output, bounds, f"the edge event deleted before the check, depth answered {beyond_max_offset}"
    )


def _burst_with_one_offline_event(newest_first: bool, seed: int) -> tuple[list[dict], list[dict]]:
    """A burst of 20 events in one second (as deep as Flameup serves: readable) beside 100 events 10 s apart on the
    side a listing reaches last, and 5 on the other. One of the burst's events has its other field 2,000 s away:
    sent by an offline client 2,000 s before it was received (newest first, sorted and filtered on `created_at`),
    or received 2,000 s after it happened (oldest first, on `timestamp`). Returns (events, the 100)."""
    rng = random.Random(seed)
    base = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(hours=2)
    burst_at = base + timedelta(seconds=1100 if newest_first else 60)
    burst = [a_flameup_event(iso(burst_at + timedelta(microseconds=1000 * i + 5)), rng) for i in range(20)]
    step = 1 if newest_first else -1
    far = [
        a_flameup_event(iso(burst_at - step * timedelta(seconds=10 * (i + 1), microseconds=321)), rng)
        for i in range(100)
    ]
    near = [
        a_flameup_event(iso(burst_at + step * timedelta(seconds=5 + 3 * i, microseconds=77)), rng) for i in range(5)
    ]
    if newest_first:
        burst[17]["timestamp"] = iso(burst_at - timedelta(seconds=2000))
    else:
        burst[2]["created_at"] = iso(burst_at + timedelta(seconds=2000))
    return far + burst + near, far


@pytest.mark.parametrize("beyond_max_offset", ["empty", "empty_page"])
@pytest.mark.parametrize("newest_first", [True, False], ids=["newest-first", "oldest-first"])
def test_an_offline_event_at_a_depth_edge_moves_no_part_past_the_events_beyond(newest_first, beyond_max_offset):
    """Pages of 5, no deeper than position 20, answered empty: the listing reads the burst's second and the check
    past it cannot tell its end from the depth, so the part past the seconds at the edge is read. 0.5.8's first
    version put that part's bound past the offline event's other field, 2,000 s away, and lost the 100 events
    between, exit code 0. The parts follow the field the listing is sorted by (found by the adversary review of
    0.5.8; 0.5.7 read them)."""
    events, far = _burst_with_one_offline_event(newest_first, seed=3 if newest_first else 4)
    field = "created_at" if newest_first else "timestamp"
    behaviour = FlameupBehaviour(
        limit_cap=5, max_offset=20, beyond_max_offset=beyond_max_offset, filter_field=field, newest_first=newest_first
    )

    output, bounds, _ = full_flameup_sync(events, behaviour)

    assert not output.errors, [m.trace.error.message for m in output.errors]
    assert {e["id"] for e in far} <= set(keys(output, FLAMEUP))
    _exactly_once_or_failed(
        output, bounds, f"an offline event at the edge, {field}, depth answered {beyond_max_offset}"
    )


def test_the_check_past_a_listings_end_at_pages_of_one_with_hidden_events_pages_to_the_empty_page():
    """Pages of one event, 30 % hidden (a cut of hidden events answers the next visible one), 6 events a second,
    oldest first, no depth cap: the check past the end pages one position at a time, and each hidden position
    answers an event it saw already. Bounded by the events read, 0.5.8's first version stopped one request short of
    the empty page, read the part again twice and failed as "Flameup stops serving a listing", nothing missing. An
    event answered again extends the bound by a position (found by the adversary review of 0.5.8)."""
    rng = random.Random(361)
    base = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(hours=1)
    events = [
        a_flameup_event(
            iso(base + timedelta(seconds=n // 6, microseconds=(n % 6) * 166_666 + rng.randrange(1000))), rng
        )
        for n in range(60)
    ]
    behaviour = FlameupBehaviour(
        limit_cap=1, hidden_share=0.3, newest_first=False, since_inclusive=False, until_inclusive=False, total="absent"
    )

    output, bounds, _ = full_flameup_sync(events, behaviour)

    assert not output.errors, [m.trace.error.message for m in output.errors]
    _exactly_once_or_failed(output, bounds, "pages of one, 30 % hidden")


def test_a_check_whose_part_empties_before_it_asks_starts_again_once():
    """As above, with the unread event deleted too: the part past the listing's end is now empty. The check
    starts again from the part's start only from a later start, and once: 0.5.8's second version asked offset 0
    again without end (found by the adversary review of 0.5.8)."""
    events = _dense(21, 1)
    oldest, edge = events[0], events[1]
    behaviour = FlameupBehaviour(limit_cap=5, max_offset=20, beyond_max_offset="empty")
    *_, untouched = full_flameup_sync(list(events), behaviour)
    check = 1 + next(n for n, request in enumerate(untouched) if request["until"] != untouched[0]["until"])
    gone = {oldest["id"], edge["id"]}
    seed = next(
        s
        for s in range(10_000)
        if {e["id"] for e in random.Random(f"Deletion flameup {check} {s}").sample(events, 2)} == gone
    )

    deletion = Deletion(api="flameup", where="random", at_request=check, count=2, seed=seed)
    # a check that pages on revokes the key: this test fails instead of hanging
    revoked = Fault(kind="key_revoked", at_request=2 * len(untouched), times=10**6, api="flameup")
    output, bounds, requests = full_flameup_sync(list(events), behaviour, [deletion], faults=[revoked])

    assert not gone & bounds.must  # the deletions fired, on those two
    assert len(requests) < 2 * len(untouched)
    assert not output.errors, [m.trace.error.message for m in output.errors]
    _exactly_once_or_failed(output, bounds, "the part past the listing's end emptied before its check")


def test_ties_reordered_on_each_request_at_pages_of_one_fail_named_rather_than_page_without_end():
    """Pages of one event and ties of up to 4 listed in another order on each request: no answer holds two events of
    a tie, so no reorder shows, and each request places again events a request before unplaced. Until 0.5.8 the sync
    paged between the same few offsets without end (found by the adversary review of 0.5.8); it fails naming what
    to change once its requests pass 64 for each new event read and position reached (here after 3,200 requests,
    30 events). The key is revoked at the 20,000th request, so that paging on fails this test instead of hanging
    it."""
    behaviour = FlameupBehaviour(
        limit_cap=1, newest_first=False, tie_order="per_request", since_inclusive=False, total="visible"
    )
    revoked = Fault(kind="key_revoked", at_request=20_000, times=10**6, api="flameup")

    output, _, requests = full_flameup_sync(flameup_ties(34, 30, 4), behaviour, faults=[revoked], page_size=1)

    messages = [m.trace.error.message for m in output.errors]
    assert len(requests) < 20_000, messages  # the key was never revoked: the sync ended on its own
    assert messages and messages[0].startswith("Flameup's listing kept moving under the reader without end"), messages
    assert "`flameup.page_size`" in messages[0]


_PAGES_OF_ONE_REORDERED = (
    "listing.py Step.AFTER/Step.RECHECK: at pages of one event with a tie listed in another order on each request, the "
    "page after the position can answer the last event read and the check of the position the tie's other event "
    "read, so the position seems to hold and the tie's event in between is skipped. Taking the last event read past "
    "the position as a move (a step back) read these, but failed 24 of 80 churn and 17 more of 40 hidden fuzzed "
    "syncs that finish"
)


@pytest.mark.xfail(strict=True, reason=_PAGES_OF_ONE_REORDERED)
def test_ties_reordered_on_each_request_at_pages_of_one_lose_no_event_quietly():
    """Pages of one event, ties of up to 2 or 3 listed in another order on each request, nothing changes: 0.5.8 and
    0.5.9 lose one event in each of these syncs, exit code 0 (10 of 26 such syncs, found by the adversary review of
    0.5.9's first version). Checked together: the xfail holds while any of them loses an event."""
    revoked = Fault(kind="key_revoked", at_request=20_000, times=10**6, api="flameup")
    lost = []
    for seed, longest in [(2, 2), (10, 3), (11, 3), (14, 2), (15, 2)]:
        behaviour = FlameupBehaviour(tie_order="per_request", limit_cap=1, newest_first=seed % 2 == 0)
        output, bounds, requests = full_flameup_sync(flameup_ties(seed, 30, longest), behaviour, faults=[revoked])
        assert len(requests) < 20_000
        lost += _quietly_lost(output, bounds, f"pages of one, ties of up to {longest} reordered, seed {seed}")
    assert not lost


def _late_ingested(seed: int, count: int = 400) -> list[dict]:
    """Events over two days, each received 0-5 s after it happened, a tenth from offline clients days later."""
    rng = random.Random(seed)
    end = datetime.now(timezone.utc) - timedelta(seconds=5)
    events = []
    for _ in range(count):
        happened = end - timedelta(seconds=rng.uniform(10, 2 * 86400))
        lag = rng.uniform(60, (end - happened).total_seconds()) if rng.random() < 0.1 else rng.uniform(0, 5)
        event = a_flameup_event(iso(happened), rng)
        event["created_at"] = iso(happened + timedelta(seconds=lag))
        events.append(event)
    return events


@pytest.mark.parametrize("beyond_max_offset", ["empty", "empty_page", "reject"])
def test_a_listing_sorted_by_another_field_than_the_bounds_compare_under_a_depth_cap_loses_no_event_quietly(
    beyond_max_offset,
):
    """`WHERE created_at BETWEEN .. ORDER BY timestamp` (or the other way) under a depth cap: the events the depth
    hid lie anywhere in the range, not beyond the edge event by the compared field, so the check there found none
    (adversary review of 0.5.14: 17 and 22 of 400 lost, exit code 0). The range is now read again in two parts until
    each listing's end is shown (retriever._parts_to_read_again)."""
    lost, halved = [], 0
    for seed in (1, 2):
        for filter_field, sort_field, newest_first in (
            ("created_at", "timestamp", True),
            ("timestamp", "created_at", False),
            ("created_at", "timestamp", False),
            ("timestamp", "created_at", True),
        ):
            behaviour = FlameupBehaviour(
                filter_field=filter_field,
                sort_field=sort_field,
                newest_first=newest_first,
                limit_cap=50,
                max_offset=120,
                beyond_max_offset=beyond_max_offset,
            )
            output, bounds, sent = full_flameup_sync(_late_ingested(seed), behaviour)
            assert not output.errors, output.errors[0].trace.error.message
            lost += _quietly_lost(output, bounds, f"seed {seed}, compared {filter_field}, sorted by {sort_field}")
            halved += any("reading the range again in two parts" in m.log.message for m in output.logs)
    assert not lost, lost
    assert halved == 8  # every one was read again in two parts: what the check beyond the end could not reach


def test_a_listing_sorted_by_the_field_its_bounds_compare_is_not_read_again_in_parts():
    """The times disagree in order (a tenth of the events received days late), but an event listed in a range
    around its `timestamp` alone shows that `since`/`until` compare `timestamp`, the field the listing is sorted by:
    the check beyond the listing's end reaches what a depth hid, and nothing is read twice."""
    behaviour = FlameupBehaviour(limit_cap=50, max_offset=120)
    output, bounds, sent = full_flameup_sync(_late_ingested(1), behaviour)

    assert not output.errors, output.errors[0].trace.error.message
    _exactly_once_or_failed(output, bounds, "sorted by the field compared, offline events")
    assert not any("reading the range again in two parts" in m.log.message for m in output.logs)
    assert len(sent) < 40, len(sent)  # 400 events at pages of 50: 8 pages for each window's events, and checks


def test_a_listing_sorted_by_another_field_than_the_bounds_compare_without_a_depth_cap_is_read():
    """What held: the same orders with every offset served."""
    for filter_field, sort_field in (("created_at", "timestamp"), ("timestamp", "created_at")):
        behaviour = FlameupBehaviour(filter_field=filter_field, sort_field=sort_field, limit_cap=50)
        output, bounds, _ = full_flameup_sync(_late_ingested(3), behaviour)

        assert not output.errors
        _exactly_once_or_failed(output, bounds, f"compared {filter_field}, sorted by {sort_field}, no depth cap")


@pytest.mark.parametrize("newest_first", [True, False])
@pytest.mark.parametrize("count", [100, 3, 50])
def test_a_listing_whose_offsets_past_its_end_answer_its_last_page_is_read_within_bounds(newest_first, count):
    """No empty page ever comes: 0.5.15 took the last page again for a listing moving under the reader, its check
    beyond the end paged on through it, and the planner's probe (`limit=1` at `offset=n`) always found an event, so
    windows were cut down to seconds and each read again and again (adversary review of 0.5.14: 20,956 requests in
    60 s for 100 events). The very same page far past the end is the clamp (retriever._past_the_end); the probes
    then ask far past n too. 50 events: exactly a page."""
    rng = random.Random(3)
    end = datetime.now(timezone.utc) - timedelta(seconds=5)
    events = [a_flameup_event(iso(end - timedelta(seconds=rng.uniform(10, 3600))), rng) for _ in range(count)]
    behaviour = FlameupBehaviour(limit_cap=50, past_the_end="last_page", newest_first=newest_first)
    # a sync that pages on is stopped at its 1,500th request (the key refused from there), lest it run for hours
    stop = Fault(kind="key_revoked", at_request=1_500, times=10**6, api="flameup")
    output, bounds, sent = full_flameup_sync(events, behaviour, faults=[stop])

    assert not output.errors, output.errors[0].trace.error.message
    assert len(sent) < 60, f"{len(sent)} requests for {count} events"
    _exactly_once_or_failed(output, bounds, "offsets past the end answer the last page")


def test_a_listing_whose_offsets_past_its_end_answer_its_last_page_reordered_is_read_within_bounds():
    """Ties listed in another order on each request: the page far past the end holds the last page's events in
    another order. Compared in order, the clamp was never seen and the sync paged on (adversary review of 0.5.16's
    first version: 2,732 requests in 30 s for 150 events). Compared as sets, a tie the last page's first event
    shares with the event before it put another of its events in the page far past the end: the clamp went unseen,
    that page was placed as the one after the position, and 0.5.19 paged on through it (192 requests, no new event)."""
    end = datetime.now(timezone.utc) - timedelta(seconds=5)
    events = flameup_events(150, end - timedelta(days=0.5), end, WORKSPACE_ID, seed=1)
    behaviour = FlameupBehaviour(past_the_end="last_page", tie_order="per_request", limit_cap=100)
    stop = Fault(kind="key_revoked", at_request=1_500, times=10**6, api="flameup")
    output, bounds, sent = full_flameup_sync(events, behaviour, faults=[stop])

    assert not output.errors, output.errors[0].trace.error.message
    assert len(sent) < 60, f"{len(sent)} requests for 150 events"
    _exactly_once_or_failed(output, bounds, "offsets past the end answer the last page, ties reordered")


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_hidden_events_in_a_short_first_page_are_no_evidence_of_offsets_clamped(seed):
    """Hidden events make the first page span more positions than it holds, so the first look's request after it
    answers one of its own events. 0.5.16's first version took that for offsets clamped past the end, planned the
    range as one page, and lost the events past a depth cap that empties a page reaching past it (4-5 of 85, exit
    code 0; adversary review)."""
    end = datetime.now(timezone.utc) - timedelta(seconds=5)
    events = flameup_events(105, end - timedelta(minutes=5), end, WORKSPACE_ID, seed=seed)
    behaviour = FlameupBehaviour(
        limit_cap=100, max_offset=120, beyond_max_offset="empty_page", hidden_share=0.2, newest_first=False
    )
    output, bounds, _ = full_flameup_sync(events, behaviour)

    assert not output.errors, output.errors[0].trace.error.message
    _exactly_once_or_failed(output, bounds, f"hidden events in the first page, seed {seed}")
