from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping


@dataclass
class ApiResponse:
    status: int
    body: Any
    headers: Dict[str, str] = field(default_factory=dict)


Query = Mapping[str, List[str]]


def first(query: Query, name: str) -> "str | None":
    values = query.get(name)
    return values[0] if values else None
