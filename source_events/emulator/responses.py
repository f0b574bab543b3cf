from collections.abc import Mapping
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
