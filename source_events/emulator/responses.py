from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass
class ApiResponse:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


Query = Mapping[str, list[str]]


def first(query: Query, name: str) -> "str | None":
    values = query.get(name)
    return values[0] if values else None


class RecentAnswers:
    """The last `kept` computed selections of the listing, by the question and the data they answer.

    Concurrent readers ask different questions in turn (Flameup windows, bem's two sort orders): one kept
    answer would be recomputed, sorting the whole listing, on nearly every request."""

    def __init__(self, kept: int) -> None:
        self._kept = kept
        self._answers: OrderedDict[Hashable, Any] = OrderedDict()

    def get(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        if key in self._answers:
            self._answers.move_to_end(key)
            return self._answers[key]
        answer = self._answers[key] = compute()
        while len(self._answers) > self._kept:
            self._answers.popitem(last=False)
        return answer
