"""Which ID a bem reader's next request names, and what an answer shows of how bem reads it
(source_events.bem.anchor). Through HTTP, bem reading `startingAfter` after the named ID's second with IDs minted
by clocks a second or two off: integration_tests/test_bem_seconds.py."""

import random

from source_events.bem.anchor import CAREFUL_MARGIN_SECONDS, Anchoring, further_back, resume_after
from source_events.emulator.ids import ksuid

_T0 = 1_790_000_000


def _ids(seconds: list[int], seed: int = 1) -> list[str]:
    rng = random.Random(seed)
    return sorted(ksuid(_T0 + second, rng) for second in seconds)


def test_a_page_resumes_before_its_last_second_and_carefully_further_back_than_ids_may_stray():
    page = _ids([0, 1, 2, 3, 4, 5, 6, 6])

    assert resume_after(page) == page[5]  # the last of another second than the page's last
    assert resume_after(page, CAREFUL_MARGIN_SECONDS) == page[1]  # second 1: more than 4 s before 6
    assert resume_after(page[::-1], CAREFUL_MARGIN_SECONDS) == page[5]  # newest first, down to 0: second 5
    assert resume_after(page[4:], CAREFUL_MARGIN_SECONDS) == page[5]  # none that far: another second at least
    assert resume_after(page[6:]) == page[7]  # one second: its last ID


def test_the_documented_answer_shows_nothing_skipped():
    page, newer = _ids([0, 1, 2, 3, 3], seed=2), _ids([4, 5], seed=3)

    assert not Anchoring.shows_skipping(page, page[2], page[3:] + newer)
    assert not Anchoring.shows_skipping(page, page[2], page[3:4])  # the rest deleted since: nothing after them
    assert not Anchoring.shows_skipping(page, page[2], page[3:])  # a full page of them


def test_answers_that_skipped_reordered_or_listed_again_show_it():
    page, newer = _ids([0, 1, 2, 3, 3], seed=2), _ids([4, 5], seed=3)

    assert Anchoring.shows_skipping(page, page[2], page[4:] + newer)  # [3] missing, newer ones listed after it
    assert Anchoring.shows_skipping(page, page[2], [page[4], page[3]] + newer)  # another order
    assert Anchoring.shows_skipping(page, page[2], newer[:1] + page[3:])  # a newer one first
    assert Anchoring.shows_skipping(page, page[2], page[1:2] + page[3:])  # one from before the ID named


def test_a_reader_asks_again_once_from_further_back_and_every_request_after_is_careful():
    page = _ids([0, 1, 2, 3, 4, 5, 6, 7, 8, 8])
    anchoring = Anchoring()
    skipping_answer = page[9:] + _ids([9, 10], seed=4)  # after [7]: [8] (its 2nd event) skipped

    assert anchoring.recovery(page, page[7], page[8:]) is None and not anchoring.careful  # as documented
    assert anchoring.recovery(page, page[7], skipping_answer) == page[2]  # second 2: more than 4 s before 7
    assert anchoring.careful and anchoring.resume_after(page) == page[3]
    assert anchoring.recovery(page, page[7], skipping_answer) is None  # once from one ID: then it reads on


def test_a_state_names_an_id_further_back_than_where_the_reader_asks_next():
    page = _ids([0, 1, 2, 3, 4, 5, 6, 6])

    assert further_back(page, page[5]) == page[0]  # second 0: more than 4 s before 5
    assert further_back(page, page[3]) == page[0]  # none that far back: the page's first
    assert further_back(page, page[0]) == page[0]
    assert further_back(page[1:], page[0]) == page[0]  # not on the page: itself


def test_ids_whose_seconds_go_back_along_the_listing_make_every_request_after_careful():
    rng = random.Random(4)
    in_order = _ids([0, 1, 1, 2, 3, 4, 5, 6])
    one_off = [ksuid(_T0 + second, rng) for second in (0, 2, 1, 3)]  # a listing by creation time, an ID 1 s ahead
    anchoring = Anchoring()

    anchoring.note_order(in_order, newest_first=False)
    anchoring.note_order(in_order[::-1], newest_first=True)
    assert not anchoring.careful  # by ID, or IDs minted by the listing's clock: seconds never go back
    assert anchoring.resume_after(in_order) == in_order[6]  # the last before the page's last second

    anchoring.note_order(one_off[::-1], newest_first=True)
    assert anchoring.careful
    assert anchoring.resume_after(in_order) == in_order[2]  # second 1: more than 4 s before 6
