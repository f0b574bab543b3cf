"""Flameup's documented rate limit, as the emulator enforces it: a sliding window over arrival times."""

from collections import deque

from pydantic import BaseModel, Field

from source_events.emulator.responses import ApiResponse

RATE_LIMITED_BODY = {"error": "Rate limit exceeded", "message": "Too many requests. Please try again later."}


class RateLimit(BaseModel):
    """Flameup's documented limit (120 requests a minute per key), scalable for a benchmark: at most
    `requests` in any `per_seconds`, counted over a sliding window as they arrive. Requests over it get
    the documented 429; every answer carries X-RateLimit-Limit/Remaining/Reset (unix seconds)."""

    requests: int = Field(120, ge=1)
    per_seconds: float = Field(60.0, gt=0)


class RateLimiter:
    """The requests counted against a `RateLimit`. The limit is passed on each request, so a test can set
    or change it on a running server."""

    def __init__(self) -> None:
        self.accepted_arrivals: list[float] = []  # every accepted arrival while rate limited, for a benchmark
        self.refused = 0  # requests answered 429 by the limit (not by a scheduled fault)
        self._window: deque[float] = deque()  # accepted arrival times inside the window

    def spend(self, limit: RateLimit | None, now: float) -> tuple[bool, dict[str, str]]:
        """Count one request arriving at `now`: whether it is allowed, and the X-RateLimit headers."""
        if limit is None:
            return True, {}
        window = self._window
        while window and window[0] <= now - limit.per_seconds:
            window.popleft()
        allowed = len(window) < limit.requests
        if allowed:
            window.append(now)
            self.accepted_arrivals.append(now)
        else:
            self.refused += 1
        reset = (window[0] if window else now) + limit.per_seconds
        return allowed, {
            "X-RateLimit-Limit": str(limit.requests),
            "X-RateLimit-Remaining": str(limit.requests - len(window)),
            "X-RateLimit-Reset": str(int(reset) + 1),
        }


def rate_limited(headers: dict[str, str]) -> ApiResponse:
    """Flameup's documented 429."""
    return ApiResponse(429, dict(RATE_LIMITED_BODY), headers)
