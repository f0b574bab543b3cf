"""URLs as messages show them."""

from urllib.parse import SplitResult, urlsplit


def host_of(url: str | SplitResult) -> str:
    """The host (and port) a URL names: never the `user:password@` before it, which messages would print."""
    netloc = (urlsplit(url) if isinstance(url, str) else url).netloc
    return netloc.rsplit("@", 1)[-1]
