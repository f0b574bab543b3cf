"""Redirects: followed only where they keep the key where it was sent.

`requests` follows a redirect to any host and scheme, and re-sends every header but `Authorization` there: bem's
`x-api-key` would reach another host, over plain http too (the https rule checks `base_url` alone), and Flameup's
Bearer key would be dropped, failing as a wrong key (adversary review). A redirect on the same host and port that
keeps https (or stays on http to a loopback `base_url`) is followed; any other fails the request at once, naming
where it points and the setting to change.
"""

from urllib.parse import SplitResult, urljoin, urlsplit

import requests
from airbyte_cdk.models import FailureType

from source_events.common.errors import UserFacingError
from source_events.common.urls import host_of, port_of
from source_events.manifest import API_NAMES


def refuse_redirects_elsewhere(session: requests.Session, section: str) -> None:
    """Check each answer `session` gets (once a session)."""
    hooks = session.hooks.setdefault("response", [])
    if not any(getattr(hook, "refuses_redirects", False) for hook in hooks):
        hooks.append(_RedirectCheck(section))


class _RedirectCheck:
    refuses_redirects = True

    def __init__(self, section: str) -> None:
        self._section = section

    def __call__(self, response: requests.Response, *args: object, **kwargs: object) -> requests.Response:
        if not response.is_redirect:
            return response
        source = urlsplit(response.url)
        target = urlsplit(urljoin(response.url, response.headers.get("Location", "")))
        same_place = _place(target) is not None and _place(target) == _place(source)
        if same_place and (target.scheme == source.scheme or target.scheme == "https"):
            return response
        shown = f"{target.scheme}://{host_of(target)}{target.path}"
        raise UserFacingError(
            message=(
                f"{API_NAMES.get(self._section, 'The API')} at {host_of(source)} answered {source.path or '/'} with a "
                f"redirect ({response.status_code}) to {shown}. A redirect to another host or to plain http is not "
                f"followed: it would carry the API key there. If that address is the API's, set "
                f"`{self._section}.base_url` to it."
            ),
            internal_message=f"redirect refused: {response.status_code} to another place",
            failure_type=FailureType.config_error,
        )


def _place(url: SplitResult) -> tuple[str | None, int] | None:
    """The host and port a URL reaches; None when its port is no number (such a Location is not followed)."""
    try:
        return url.hostname, port_of(url)
    except ValueError:
        return None
