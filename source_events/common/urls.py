"""URLs as messages show them, and where they reach."""

from urllib.parse import SplitResult, urlsplit


def host_of(url: str | SplitResult) -> str:
    """The host (and port) a URL names: never the `user:password@` before it, which messages would print."""
    netloc = (urlsplit(url) if isinstance(url, str) else url).netloc
    return netloc.rsplit("@", 1)[-1]


def port_of(url: SplitResult) -> int:
    """The port a URL reaches, its scheme's when it names none (ValueError: a port that is no number)."""
    return url.port or (443 if url.scheme == "https" else 80)
