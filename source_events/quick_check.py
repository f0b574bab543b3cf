"""`check`'s fast path: a check that succeeds is answered without importing the CDK.

Why it exists: the Airbyte form waits for `check` before it saves a source, and on the image's Python (3.13)
importing the CDK alone takes 1.2 to 1.6 s (any `airbyte_cdk.*` import runs the package's `__init__`, which imports
nearly all of it): the CDK's check took about 2.2 s from launch to exit. This one takes about 0.6 s.

It answers SUCCEEDED only when everything the CDK's check would look at passes (and FAILED only for a config
source_events.config's rules refuse, with the CDK path's line):
- the config file is a JSON object that, after the preprocessing the CDK path applies (the spec's defaults and
  switches, source_events.manifest.with_spec_defaults; the CDK's internal test keys left out), passes the spec's
  JSON Schema as the CDK validates it, and source_events.config's own rules (a setting the spec lacks gets the
  CDK path's warning, word for word);
- for each configured API, one GET built from the manifest's own declarations (the requester's `url`, its
  authenticator, its `request_parameters` that need no stream slice, rendered against the config as the CDK
  renders them) plus the paging parameters the stream's first request sends, answers 200 with an events page.
Anything else (a config error, a refused key, a 404, a 5xx, a timeout, a declaration this module cannot read,
an error of its own) and it prints nothing and returns False: the entrypoint then runs the CDK's check
(source_events.cdk_run), which reports every failure, with its retries and its messages, in one place.

It must never import airbyte_cdk, directly or through a module it imports (unit_tests/test_quick_check.py holds it
to that).
"""

import ast
import json
import os
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import orjson
import requests
from jinja2 import meta, nodes
from jinja2.sandbox import SandboxedEnvironment
from jsonschema.validators import validator_for

from source_events import manifest
from source_events.bem.forward import OLDEST_FIRST, Request
from source_events.common.bodies import is_events_page, parse_body
from source_events.config import ConfigError, read_settings, unknown_settings
from source_events.input_files import input_text

# What the CDK prints for a successful check, after its "Check succeeded" log line (AirbyteEntrypoint.check)
SUCCEEDED_LINES = (
    '{"type":"LOG","log":{"level":"INFO","message":"Check succeeded"}}\n'
    '{"type":"CONNECTION_STATUS","connectionStatus":{"status":"SUCCEEDED"}}\n'
)

# Each request's bounds: a slower answer is left to the CDK's check, with its retries (never longer than the
# section's own `request_timeout_seconds`, which bounds the CDK's requests)
CONNECT_TIMEOUT_SECONDS = 5.0
READ_TIMEOUT_SECONDS = 10.0
# the whole wait for both answers (a body that trickles in stays within each read's bound)
DEADLINE_SECONDS = 15.0

# Keys the CDK takes out of a config before it validates it against the spec (its InternalConfig.KEYWORDS)
CDK_INTERNAL_KEYS = ("_limit", "_page_size")

# Template variables that exist only once a stream is sliced: a parameter that needs one is left out, as the
# first request of a time window (Flameup's since/until) cannot be told here
SLICE_VARIABLES = frozenset({"stream_slice", "stream_interval", "stream_partition"})
# Filters the CDK's Jinja environment adds to (or overrides in) Jinja's (airbyte_cdk...interpolation.filters): a
# template that uses one is not rendered here. unit_tests/test_quick_check.py holds this list to the CDK's.
CDK_FILTERS = frozenset(
    {"hash", "base64encode", "base64decode", "base64binascii_decode", "string", "regex_search", "regex_replace", "hmac"}
)
# What the CDK's interpolation keeps of a rendered request parameter read as a Python literal (ValidRequestTypes)
REQUEST_PARAMETER_TYPES = (str, list)
# The error handlers that take a 200 for a success exactly when its body is an events page, before any response
# filter is consulted (source_events.common.errors.EventsErrorHandler and its subclasses; the test holds them to it)
EVENTS_ERROR_HANDLERS = frozenset(
    {
        "source_events.common.errors.EventsErrorHandler",
        "source_events.flameup.errors.FlameupErrorHandler",
        "source_events.bem.components.BemErrorHandler",
    }
)


class Unreadable(Exception):
    """A declaration this module does not interpret as the CDK would: the CDK's check decides."""


@dataclass
class FirstRequest:
    """One API's request: what its stream's first request sends, less what needs a stream slice."""

    section: str
    url: str
    headers: dict[str, str]
    params: dict[str, Any]
    timeouts: tuple[float, float]  # (connect, read)
    answered: bool = field(default=False, compare=False)  # 200 with an events page


def quick_check(config_path: str) -> bool:
    """Print a successful check's messages and return True when the config is valid and every configured API
    answers its first page, or the CDK path's one line when source_events.config's rules refuse the config;
    otherwise print nothing and return False. Never raises."""
    if os.environ.get("LOG_LEVEL", "info").lower() == "debug":
        return False  # the platform asks for the CDK's debug logs (as --debug does)
    try:
        try:
            checked = valid_config(config_path)
        except ConfigError as refused:
            # the CDK path's answer, word for word: its entrypoint checks these rules first (SourceEvents.settings)
            status = {"type": "CONNECTION_STATUS", "connectionStatus": {"status": "FAILED", "message": refused.message}}
            print(_line(status), end="", flush=True)
            return True
        if checked is None:
            return False
        config, warnings = checked
        requests_to_send = first_requests(config)
        if not requests_to_send or not all_answered(requests_to_send):
            return False
        # the CDK path's warning for each setting the spec lacks, in its words and its LOG message's shape
        lines = [_line({"type": "LOG", "log": {"level": "WARN", "message": line}}) for line in warnings]
        print("".join(lines) + SUCCEEDED_LINES, end="", flush=True)
        return True
    except Exception:
        return False


def quick_spec() -> bool:
    """Print the SPEC message the CDK prints for this manifest (AirbyteEntrypoint.spec: the spec's JSON Schema and
    documentation URL, no normalization, no dbt) and return True; False, printing nothing, when the manifest's spec
    declares more than those (config migrations, advanced auth…), which the CDK alone renders."""
    try:
        spec = _plain_spec()
        if spec is None:
            return False
        message = {
            "type": "SPEC",
            "spec": {
                "connectionSpecification": manifest.connection_specification(),
                "documentationUrl": spec["documentation_url"],
                "supportsNormalization": False,
                "supportsDBT": False,
            },
        }
        print(_line(message), end="", flush=True)
        return True
    except Exception:
        return False


def _plain_spec() -> dict[str, Any] | None:
    """The manifest's spec when it declares only its JSON Schema and documentation URL; None when it declares more
    (config migrations or transformations, advanced auth…), which the CDK alone applies and renders."""
    spec = manifest.manifest()["spec"]
    return None if set(spec) - {"type", "documentation_url", "connection_specification"} else spec


def _line(message: Mapping[str, Any]) -> str:
    """A protocol message as the CDK writes it: compact JSON (orjson), one line."""
    return orjson.dumps(message).decode() + "\n"


def valid_config(config_path: str) -> tuple[dict[str, Any], list[str]] | None:
    """The config as the CDK path reads it (the spec's defaults filled in) and the warnings it would log about it
    (settings the spec lacks); ConfigError when source_events.config's rules refuse it; None when anything else
    might (the spec's JSON Schema, a file that is no JSON object): the CDK path says what."""
    if _plain_spec() is None:
        return None  # e.g. config migrations or transformations: the CDK applies them before it checks
    raw = json.loads(input_text(config_path))  # as the CDK path reads it (SourceEvents.read_config)
    if not isinstance(raw, dict):
        return None
    config = manifest.with_spec_defaults(raw) or {}  # as SourceEvents reads it
    settings = read_settings(config)  # ConfigError: refused by name

    # as the CDK validates it (check_config_against_spec_or_exit: jsonschema.validate, no format checker)
    schema = manifest.connection_specification()
    validator_class = validator_for(schema)
    validator_class.check_schema(schema)
    if not validator_class(schema).is_valid({k: v for k, v in config.items() if k not in CDK_INTERNAL_KEYS}):
        return None
    return config, unknown_settings(settings)


def first_requests(config: Mapping[str, Any]) -> list[FirstRequest]:
    """The request for each stream the config switches on, from the manifest's declarations. Raises Unreadable
    for a declaration it cannot interpret."""
    declared = manifest.manifest()
    planned = []
    for stream in manifest.declared_streams():
        section = stream["section"]
        if section is None or section not in _PAGING:
            raise Unreadable(f"stream {stream.get('name')} is switched on by no API's section")
        values = config.get(section)  # the ConditionalStreams condition: `config.get('<section>')`
        if not values:
            continue
        requester = _resolved(stream, declared)["retriever"]["requester"]
        planned.append(_request(section, requester, config))
    return planned


def all_answered(planned: list[FirstRequest]) -> bool:
    """Send every request at once; whether each answered 200 with an events page within the bounds."""
    threads = [threading.Thread(target=_send, args=(request,), daemon=True) for request in planned]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + DEADLINE_SECONDS
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    return all(request.answered for request in planned)


def _send(request: FirstRequest) -> None:
    # requests, as the CDK sends its own: the environment's proxies, CA bundle and .netrc apply alike. A redirect is
    # not followed (it could carry the key elsewhere): the CDK path says what it is (source_events.common.redirects)
    try:
        response = requests.get(
            request.url, params=request.params, headers=request.headers, timeout=request.timeouts, allow_redirects=False
        )
        request.answered = response.status_code == 200 and is_events_page(parse_body(response.content))
    except Exception:
        request.answered = False


def _flameup_paging(values: Mapping[str, Any]) -> dict[str, Any]:
    # as FlameupRetriever.ask sends them; a page size left to the connector is found by the CDK path's first
    # look (it asks for 1000, then smaller if refused): one event tells as much here
    return {"limit": values.get("page_size") or 1, "offset": 0}


def _bem_paging(values: Mapping[str, Any]) -> dict[str, Any]:
    # the oldest-first reader's first request (source_events.bem.reading), at the configured page size (the spec
    # gives it a default, so it is always set)
    return Request(sort_order=OLDEST_FIRST, limit=values.get("page_size") or 1).query


_PAGING = {"flameup": _flameup_paging, "bem": _bem_paging}


def _request(section: str, requester: Mapping[str, Any], config: Mapping[str, Any]) -> FirstRequest:
    known = {"type", "url", "http_method", "authenticator", "error_handler", "request_parameters"}
    if requester.get("type") != "HttpRequester" or set(requester) - known:
        raise Unreadable(f"{section}'s requester declares more than this module reads")
    if requester.get("http_method", "GET") != "GET":
        raise Unreadable(f"{section}'s requester does not GET")
    handler = requester.get("error_handler") or {}
    if handler.get("type") != "CustomErrorHandler" or handler.get("class_name") not in EVENTS_ERROR_HANDLERS:
        raise Unreadable(f"{section}'s error handler may take a 200 for something else than an events page")
    url = str(_rendered(requester["url"], config))
    if "?" in url:
        raise Unreadable(f"{section}'s url has a query")
    headers = _auth_header(requester.get("authenticator"), config)
    params: dict[str, Any] = {}
    for key, template in (requester.get("request_parameters") or {}).items():
        name = _rendered(key, config, (str,))  # as the CDK reads a name (valid_key_types)
        if not isinstance(name, str):
            raise Unreadable(f"{section}: a request parameter's name is no string")
        if isinstance(template, str) and _variables(template) & SLICE_VARIABLES:
            continue
        value = _rendered(template, config, REQUEST_PARAMETER_TYPES) if isinstance(template, str) else template
        if value is not None:  # a template that renders '' is left out, as the CDK leaves it
            params[name] = value
    values = config[section]
    params.update(_PAGING[section](values))
    timeout = float(values.get("request_timeout_seconds") or READ_TIMEOUT_SECONDS)
    return FirstRequest(
        section, url, headers, params, (min(CONNECT_TIMEOUT_SECONDS, timeout), min(READ_TIMEOUT_SECONDS, timeout))
    )


def _auth_header(authenticator: Any, config: Mapping[str, Any]) -> dict[str, str]:
    if not isinstance(authenticator, Mapping):
        raise Unreadable("no authenticator")
    kind = authenticator.get("type")
    if kind == "BearerAuthenticator" and set(authenticator) <= {"type", "api_token"}:
        return {"Authorization": f"Bearer {_rendered(authenticator['api_token'], config)}"}
    if kind == "ApiKeyAuthenticator" and set(authenticator) <= {"type", "api_token", "inject_into"}:
        option = authenticator["inject_into"]
        if (
            isinstance(option, Mapping)
            and option.get("inject_into") == "header"
            and set(option) <= {"type", "inject_into", "field_name"}
        ):
            return {str(_rendered(option["field_name"], config)): str(_rendered(authenticator["api_token"], config))}
    raise Unreadable(f"authenticator {kind} is not one this module sends")


def _resolved(node: Any, declared: Mapping[str, Any], seen: frozenset[str] = frozenset()) -> Any:
    """`node` with its references resolved as the CDK resolves them (ManifestReferenceResolver): a `$ref` (or any
    string) "#/a/b" is the value at that path, and the keys beside a `$ref` override the referenced ones."""
    if isinstance(node, dict):
        resolved = {key: _resolved(value, declared, seen) for key, value in node.items() if key != "$ref"}
        if "$ref" not in node:
            return resolved
        referenced = _resolved(node["$ref"], declared, seen)
        return referenced | resolved if isinstance(referenced, dict) else referenced
    if isinstance(node, list):
        return [_resolved(value, declared, seen) for value in node]
    if isinstance(node, str) and node.startswith("#/"):
        if node in seen:
            raise Unreadable(f"circular reference {node}")
        target: Any = declared
        for part in node[2:].split("/"):
            if not isinstance(target, Mapping) or part not in target:
                raise Unreadable(f"reference {node} does not resolve here")
            target = target[part]
        return _resolved(target, declared, seen | {node})
    return node


@cache
def _environment() -> SandboxedEnvironment:
    # as the CDK's (airbyte_cdk.sources.declarative.interpolation.jinja): sandboxed, without `range`; its own
    # filters and macros are not here, so a template that needs one is not rendered (CDK_FILTERS, _variables)
    environment = SandboxedEnvironment()
    environment.globals.pop("range", None)
    return environment


@cache
def _template(source: str) -> Any:
    parsed = _environment().parse(source)
    if any(node.name in CDK_FILTERS for node in parsed.find_all(nodes.Filter)):
        raise Unreadable("a template uses a filter of the CDK's")
    return _environment().from_string(source)


@cache
def _variables(source: str) -> frozenset[str]:
    return frozenset(meta.find_undeclared_variables(_environment().parse(source)))


def _rendered(source: Any, config: Mapping[str, Any], valid_types: tuple[type, ...] | None = None) -> Any:
    """A template rendered against the config and read back as the CDK's JinjaInterpolation reads it: a result
    that is a Python literal becomes that value (kept only if of `valid_types`, when given); an empty result is
    None where `valid_types` is given (a request parameter, then left out), else ''."""
    if not isinstance(source, str):
        raise Unreadable("a template that is not a string")
    variables = _variables(source)
    if variables - {"config"}:
        raise Unreadable(f"a template needs {sorted(variables - {'config'})}")
    result = _template(source).render(config=config)
    if not result:
        return None if valid_types else ""
    try:
        evaluated = ast.literal_eval(result)
    except (ValueError, SyntaxError, TypeError):
        return result
    if (valid_types is None and not isinstance(evaluated, complex)) or (
        valid_types is not None and isinstance(evaluated, valid_types)
    ):
        return evaluated
    return result
