"""A reader going round in a circle (source_events.bem.reading.Circling): the same requests answered the same, in the
same order, CIRCLE_TURNS times over, with no ID it was not listed before. Through HTTP: integration_tests/
test_listing_changes.py (bem ignoring `startingAfter`, pages of 2 and 3)."""

from source_events.bem.forward import OLDEST_FIRST, Request
from source_events.bem.reading import CIRCLE_TURNS, Circling


def _answer(after: str, *ids: str) -> tuple[Request, tuple[str, ...]]:
    return Request(OLDEST_FIRST, 2, after), ids


def _rounds(circling: Circling, answers: list, turns: int) -> list[bool]:
    return [circling.went_round(answer) for _ in range(turns) for answer in answers]


def test_a_circle_whose_turn_asks_one_position_twice_is_found_on_its_last_turn():
    circling = Circling(reader=None)
    assert not circling.went_round(_answer("e0", "e1", "e2", "e3"))  # the IDs' first listing: news of a kind
    turn = [_answer("e1", "e2", "e3"), _answer("e2", "e1", "e3"), _answer("e1", "e2", "e3"), _answer("e3", "e1")]

    went_round = _rounds(circling, turn, CIRCLE_TURNS)

    assert went_round == [False] * (CIRCLE_TURNS * len(turn) - 1) + [True]


def test_answers_that_differ_on_one_turn_are_no_circle():
    """A listing that changes elsewhere (events deleted at its end) or a second's events listed in a new order: the
    reader read on, and may read everything yet."""
    circling = Circling(reader=None)
    circling.went_round(_answer("e0", "e1", "e2", "e3"))
    turns = [[_answer("e1", "e2", "e3"), _answer("e3", "e1", "e2")]] * (CIRCLE_TURNS - 1)
    turns.append([_answer("e1", "e2", "e3"), _answer("e3", "e2", "e1")])  # the same IDs in another order

    assert not any(circling.went_round(answer) for turn in turns for answer in turn)


def test_an_id_not_listed_before_starts_the_count_again():
    circling = Circling(reader=None)
    circling.went_round(_answer("e0", "e1", "e2"))
    turn = [_answer("e1", "e2"), _answer("e2", "e1", "e2")]
    _rounds(circling, turn, CIRCLE_TURNS - 1)

    assert not circling.went_round(_answer("e2", "e1", "e9"))  # e9: new
    assert _rounds(circling, turn, CIRCLE_TURNS)[-1]
    assert not any(_rounds(Circling(reader=None), turn, 1))
