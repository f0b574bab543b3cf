"""The connector's configuration as typed models, and the one place its rules are checked.

The spec in manifest.yaml is what the Airbyte UI renders and what the CDK validates with JSON Schema;
JSON Schema's messages do not say which setting is wrong ("0 is less than the minimum of 1"). These
models check the same rules, read from the spec itself (bounds, defaults, patterns, enums:
source_events.manifest), plus the ones JSON Schema cannot say (at least one API, HTTPS unless loopback, a
start date in the past), and report each as one line naming the setting to fix.
"""

import difflib
import ipaddress
import logging
import re
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator, model_validator

from source_events import manifest
from source_events.common.timestamps import format_timestamp, parse_timestamp

# What `flameup.start_date` accepts: a date (midnight UTC) or a date-time with a zone: the spec's `pattern`, so
# the Airbyte UI, the CDK's JSON Schema check and this module accept and refuse the same values.
START_DATE_PATTERN = manifest.setting("flameup", "start_date")["pattern"]
START_DATE_EXAMPLES = "2024-01-01 (midnight UTC) or 2024-01-01T00:00:00Z"

BemEventType = Literal[tuple(manifest.bem_event_types())]  # type: ignore[valid-type]


def _from_spec(section: str, name: str) -> Any:
    """A pydantic Field with the spec's default (or required) and bounds for one setting."""
    schema = manifest.setting(section, name)
    required = name in manifest.required_settings(section)
    bounds = {
        "ge": schema.get("minimum"),
        "gt": schema.get("exclusiveMinimum"),
        "le": schema.get("maximum"),
        "min_length": schema.get("minLength"),
    }
    default = ... if required else schema.get("default")
    return Field(default, **{key: value for key, value in bounds.items() if value is not None})


def _server(base_url: str | None, section: str) -> str:
    """The API's server as a state names it: unset is the vendor's (the spec's default); a host's case and a trailing /
    say nothing, and a query or fragment is left out (a state is no place for a token someone put there)."""
    url = urlsplit(base_url or manifest.setting(section, "base_url")["default"])
    return f"{url.scheme.lower()}://{url.netloc.lower()}{url.path.rstrip('/')}"


def _check_base_url(url: str | None) -> str | None:
    """HTTPS, or plain HTTP to a loopback host (tests and the local emulator). None keeps the default."""
    if url is None or url == "":
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an absolute http(s) URL, e.g. https://api.example.com/v1")
    if "@" in parts.netloc:
        # messages and the CDK's request lines print the URL: a password there would be printed with it
        raise ValueError("must not hold credentials (`user:password@`): the API key goes in `api_key`")
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        # the host named: a misspelt loopback address (`127.0.0.l`) reads as a public host
        raise ValueError(
            f"must use HTTPS: its host `{parts.hostname}` is not local, and plain HTTP is accepted only for "
            "localhost / 127.0.0.1 / ::1"
        )
    return url.rstrip("/")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _usable_secret(value: Any) -> Any:
    """The raw value, before whitespace is stripped: the manifest sends the config's own string."""
    if not isinstance(value, str):
        return value  # the type check names it
    if not value.strip():
        raise ValueError("is empty")
    # a key pasted with its line break: HTTP refuses it in a header, and its escaped form (\\n) would slip
    # past the secret filter in the error that follows
    if any(ord(character) < 32 or ord(character) == 127 for character in value):
        raise ValueError("contains a line break or another control character: paste the key alone, without it")
    if value != value.strip():
        # sent as written, a space makes the key wrong (a 401), or an invalid header that would echo it
        raise ValueError("starts or ends with a space: paste the key alone, without it")
    if not value.isascii():
        # HTTP headers carry ASCII: a key copied with a typographic quote or an ellipsis cannot be sent
        raise ValueError("contains a character that is not ASCII (a quote or '…' copied with it?): paste the key alone")
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'`":
        # copied from a JSON file or a shell line with its quotes: sent with them, the key is wrong (a 401)
        raise ValueError("is wrapped in quotes: paste the key alone, without them")
    scheme = value.split(" ", 1)[0]
    if scheme.lower() in ("bearer", "basic", "token") and " " in value:
        # the connector sends the key in the header the API expects: `Bearer Bearer …` would be refused as a wrong key
        raise ValueError(f"starts with '{scheme} ': paste the key alone, the connector puts it in the right header")
    return value


def _no_surrounding_space(value: Any) -> Any:
    """An ID sent as written (the manifest reads the config's own string): a space around it names another one."""
    if isinstance(value, str) and not value.strip():
        raise ValueError("is empty")  # as for a key (pydantic's own words: "should have at least 1 character")
    if isinstance(value, str) and value != value.strip():
        raise ValueError(f"{value.strip()!r} has a space before or after it: remove it")
    return value


class _Section(BaseModel):
    # strict: "100" is not a page size and "true" not a boolean, as the spec's JSON Schema says (the CDK would
    # refuse them after this check, with a message naming no setting)
    model_config = ConfigDict(extra="allow", str_strip_whitespace=True, strict=True)

    @field_validator("*", mode="before")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        # the spec types no setting as null (the CDK would refuse it as "None is not of type 'string'")
        if value is None:
            raise ValueError("is null: leave the setting out to leave it unset")
        return value


class FlameupConfig(_Section):
    api_key: SecretStr
    workspace_id: str = _from_spec("flameup", "workspace_id")
    start_date: datetime
    base_url: str | None = None
    user_id: str | None = None
    event: str | None = None
    page_size: int | None = _from_spec("flameup", "page_size")  # None: found at run time (flameup.paging)
    lookback_window_minutes: int = _from_spec("flameup", "lookback_window_minutes")
    requests_per_minute: int = _from_spec("flameup", "requests_per_minute")
    request_timeout_seconds: float = _from_spec("flameup", "request_timeout_seconds")

    _api_key_usable = field_validator("api_key", mode="before")(_usable_secret)
    _workspace_id_exact = field_validator("workspace_id", mode="before")(_no_surrounding_space)
    _base_url_safe = field_validator("base_url")(_check_base_url)

    def state_scope(self) -> dict[str, Any]:
        """The settings that decide which events the stream holds: a state saved under others says nothing of what
        was read under these (source_events.common.checkpoints.saved_for_scope)."""
        return {
            # another server (another account's, an emulator) holds other events
            "base_url": _server(self.base_url, "flameup"),
            "workspace_id": self.workspace_id,
            "user_id": self.user_id or None,  # "" filters nothing, as unset (the manifest sends neither)
            "event": self.event or None,
            "start_date": format_timestamp(self.start_date),
        }

    @field_validator("start_date", mode="before")
    @classmethod
    def _parse_start_date(cls, value: Any) -> datetime:
        if not isinstance(value, str):
            raise ValueError(f"must be a date or date-time string: use {START_DATE_EXAMPLES}")
        try:
            if not re.search(START_DATE_PATTERN, value):
                raise ValueError(value)
            parsed = parse_timestamp(value)  # a date alone is midnight UTC
        except ValueError:
            raise ValueError(_start_date_problem(value)) from None
        if parsed > datetime.now(timezone.utc):
            raise ValueError(f"{value!r} is in the future; use a past date or date-time")
        return parsed


def _start_date_problem(value: str) -> str:
    try:
        local = parse_timestamp(value)  # not datetime.fromisoformat: it reads other forms on each Python version
    except ValueError:
        local = None
    if (
        local is not None
        and len(value) > len("2024-01-01")
        and not re.search(r"([Zz]|[+-][0-9]{2}(:?[0-9]{2})?)$", value)
    ):
        return f"{value!r} has no time zone: add one, e.g. {local:%Y-%m-%dT%H:%M:%S}Z for UTC"
    return f"{value!r} is not a date or date-time: use {START_DATE_EXAMPLES}"


class BemConfig(_Section):
    api_key: SecretStr
    base_url: str | None = None
    page_size: int = _from_spec("bem", "page_size")
    event_types: list[BemEventType] = []
    function_names: list[str] = []
    function_ids: list[str] = []
    call_ids: list[str] = []
    reference_ids: list[str] = []
    is_labelled: bool | None = None
    lookback_window_seconds: int = _from_spec("bem", "lookback_window_seconds")
    request_timeout_seconds: float = _from_spec("bem", "request_timeout_seconds")

    _api_key_usable = field_validator("api_key", mode="before")(_usable_secret)
    _base_url_safe = field_validator("base_url")(_check_base_url)

    def state_scope(self) -> dict[str, Any]:
        """As FlameupConfig.state_scope: the server and the filters (a list's order and repeats say nothing)."""
        return {
            "base_url": _server(self.base_url, "bem"),
            "event_types": sorted(set(self.event_types)),
            "function_names": sorted(set(self.function_names)),
            "function_ids": sorted(set(self.function_ids)),
            "call_ids": sorted(set(self.call_ids)),
            "reference_ids": sorted(set(self.reference_ids)),
            "is_labelled": self.is_labelled,
        }


class EventsConfig(_Section):
    flameup: FlameupConfig | None = None
    bem: BemConfig | None = None

    @model_validator(mode="before")
    @classmethod
    def _replicated_sections_only(cls, config: Any) -> Any:
        # a section the Airbyte form set to skip (`replicate: "no"`) is no section
        return manifest.replicated_sections(config)

    @model_validator(mode="before")
    @classmethod
    def _no_misspelt_section(cls, config: Any) -> Any:
        # a misspelt section would leave its API out without a word: `check` would succeed, the stream vanish
        if isinstance(config, Mapping):
            for key, value in config.items():
                close = difflib.get_close_matches(str(key), ["flameup", "bem"], n=1, cutoff=0.6)
                if key not in ("flameup", "bem") and isinstance(value, Mapping) and close:
                    raise ValueError(
                        f"`{key}` is no section of this connector: did you mean `{close[0]}`? As written, that API "
                        "would not be replicated"
                    )
        return config

    @property
    def streams(self) -> list[str]:
        """The streams this config provides (each API configured adds its stream), in the manifest's order."""
        return [stream for stream, section in manifest.stream_sections().items() if getattr(self, section) is not None]

    @model_validator(mode="after")
    def _at_least_one_api(self) -> "EventsConfig":
        if self.flameup is None and self.bem is None:
            # a flat config, as single-API connectors take it: the settings it holds say which section to write
            misplaced = "".join(f"; {line}" for line in _misplaced(sorted(self.model_extra or {})))
            raise ValueError(
                f"configure at least one API: add a `flameup` section, a `bem` section, or both{misplaced}"
            )
        return self


class ConfigError(ValueError):
    """A config that breaks a rule; `message` names each setting to fix (never a value). Raised without the CDK:
    parse_config turns it into the CDK's config_error, and source_events.quick_check only needs to know."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def read_settings(config: Mapping[str, Any]) -> EventsConfig:
    """The raw config, validated and typed, without the CDK; raise ConfigError naming the setting to fix. Never
    echoes values. A setting the spec does not have is refused where it is surely meant as one it has (`_unknown`);
    unknown_settings lists the others."""
    try:
        settings = EventsConfig.model_validate(dict(config))
    except ValidationError as error:
        problems = "; ".join(_describe(e, config) for e in error.errors(include_input=False, include_url=False))
        raise ConfigError(f"Invalid configuration: {problems}.") from None
    mistaken = [line for line, refused in _unknown(settings) if refused]
    if mistaken:
        raise ConfigError(f"Invalid configuration: {'; '.join(mistaken)}.")
    return settings


def parse_config(config: Mapping[str, Any]) -> EventsConfig:
    """Validate the raw config; raise a config_error naming the setting to fix, and log a warning for each
    setting the spec does not have. Never echoes values. The source parses its config once (SourceEvents.settings)."""
    # the CDK's error type, imported here: read_settings is the rules, for callers that run without the CDK
    from airbyte_cdk.models import FailureType
    from airbyte_cdk.utils.traced_exception import AirbyteTracedException

    try:
        settings = read_settings(config)
    except ConfigError as error:
        raise AirbyteTracedException(
            message=error.message,
            internal_message="configuration failed validation",
            failure_type=FailureType.config_error,
        ) from None
    for warning in unknown_settings(settings):
        logging.getLogger("airbyte").warning(warning)
    return settings


def unknown_settings(settings: EventsConfig) -> list[str]:
    """A warning for each setting the spec does not have that read_settings let through (nothing like a setting it
    has: maybe one a later version reads)."""
    return [line for line, refused in _unknown(settings) if not refused]


def _sections_of(name: str) -> list[str]:
    """The sections that have a setting `name`."""
    return [section for section in ("flameup", "bem") if name in manifest.section_settings(section)]


def _misplaced(names: list[str]) -> list[str]:
    """A line for each of the top-level `names` that is a section's setting, naming the section to move it under."""
    owners = {name: _sections_of(name) for name in names}
    return [
        f"`{name}` is set at the top level: move it under {' or '.join(f'`{s}`' for s in sections)}"
        for name, sections in owners.items()
        if sections
    ]


def _unknown(settings: EventsConfig) -> list[tuple[str, bool]]:
    """A line for each setting the spec does not have, and whether it is refused. Refused: a section's setting set
    at the top level, or a setting of a section that looks like one the section has (a misspelling): ignored, it
    would change what is synced without a word (`event_type: [transform]` reads every type, `lookback_window_minuts`
    the default lookback). Warned: any other."""
    extra = sorted(settings.model_extra or {})
    lines = [(line, True) for line in _misplaced(extra)]
    for name in extra:
        if not _sections_of(name):
            lines.append(
                (f"Unknown setting `{name}` at the top level is ignored: settings go under `flameup` or `bem`.", False)
            )
    for section_name in ("flameup", "bem"):
        section = getattr(settings, section_name)
        if section is None:
            continue
        known = list(type(section).model_fields)
        for name in sorted(section.model_extra or {}):
            close = difflib.get_close_matches(name, known, n=1)
            if close:
                meant = f"`{section_name}.{close[0]}`"
                lines.append((f"`{section_name}.{name}` is no setting of this connector (did you mean {meant}?)", True))
            else:
                lines.append((f"Unknown setting `{section_name}.{name}` is ignored.", False))
    return lines


def _describe(error: Mapping[str, Any], config: Mapping[str, Any]) -> str:
    location = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in error["loc"]).lstrip(".")
    message = error["msg"].removeprefix("Value error, ").removeprefix("Input ")
    if error["type"] == "missing":
        return f"`{location}` is required{_lookalike_of(error['loc'], config)}"
    # pydantic names its class there ("instance of FlameupConfig"): no use to the user
    if error["type"] == "model_type":
        return f"`{location}` should be a JSON object of its settings" if location else "should be a JSON object"
    return f"`{location}` {message}" if location else message


def _lookalike_of(location: tuple[Any, ...], config: Mapping[str, Any]) -> str:
    """For a required setting that is missing: the unknown setting beside it that looks like a misspelling of it."""
    if len(location) != 2 or not isinstance(config.get(location[0]), Mapping):
        return ""
    section, name = location
    if name in config:
        return f"; it is set at the top level: move it under `{section}`"
    known = manifest.section_settings(section)
    unknown = [key for key in config[section] if isinstance(key, str) and key not in known]
    close = difflib.get_close_matches(name, unknown, n=1)
    return f"; `{section}.{close[0]}` looks like it: rename it to `{name}`" if close else ""
