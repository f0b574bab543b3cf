"""Importing airbyte-cdk without parsing the same module fifty times, and loading its component schema once.

Most of the CDK's import time is spent building its protocol serializers: serpyco-rs reads each protocol
class's attribute docstrings (for JSON-schema descriptions) with `inspect.getsource`, and before Python 3.13
each call finds the class by parsing its whole module again (112 calls, one large module: ~0.4 s here).
`one_parse_per_module` finds classes from one parse per file instead, for as long as the import runs; every
other object, and every class it does not find, goes to `inspect.findsource` as always.
unit_tests/test_startup.py checks that the docstrings read are the same either way.

Building a source then parses the CDK's declarative component schema (a 250 KB YAML file, ~0.2 s) to validate
the manifest: `component_schema` reads it from a pickle kept in this package (made by
scripts/generate_schemas.py, which a test runs with --check), keyed by the YAML's hash, and falls back to the
CDK's own loader whenever the installed CDK ships another schema. (A pickle, not JSON: the schema holds YAML
dates.)
"""

import ast
import hashlib
import inspect
import linecache
import pickle
import pkgutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


@contextmanager
def one_parse_per_module() -> Iterator[None]:
    """While it is entered, `inspect.findsource` finds a class by one parse of its file, kept."""
    if sys.version_info >= (3, 13):  # classes know their first line (`__firstlineno__`): nothing to save
        yield
        return
    original = inspect.findsource
    classes_by_file: dict[str, dict[str, int]] = {}

    def findsource(obj: Any) -> tuple[list[str], int]:
        if inspect.isclass(obj):
            file = inspect.getsourcefile(obj)
            if file:
                lines = linecache.getlines(file)
                if file not in classes_by_file:
                    classes_by_file[file] = _class_lines("".join(lines))
                line = classes_by_file[file].get(obj.__qualname__)
                if lines and line is not None:
                    return lines, line
        return original(obj)

    inspect.findsource = findsource  # type: ignore[assignment]
    try:
        yield
    finally:
        inspect.findsource = original  # type: ignore[assignment]


def _class_lines(source: str) -> dict[str, int]:
    """Each class's qualified name -> the index of its first line (its first decorator's, if any), as
    `inspect.findsource` answers for a class."""
    found: dict[str, int] = {}

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.ClassDef):
                name = f"{prefix}{child.name}"
                first = child.decorator_list[0].lineno if child.decorator_list else child.lineno
                found.setdefault(name, first - 1)
                visit(child, f"{name}.")
            elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                visit(child, f"{prefix}{child.name}.<locals>.")
            else:
                visit(child, prefix)

    try:
        visit(ast.parse(source), "")
    except SyntaxError:
        return {}
    return found


def import_cdk() -> None:
    with one_parse_per_module():
        import airbyte_cdk.models  # noqa: F401 - the import this module exists to make fast


SCHEMA_KEPT = Path(__file__).with_name("declarative_component_schema.pickle")
_SCHEMA_YAML = "sources/declarative/declarative_component_schema.yaml"


def component_schema() -> dict[str, Any]:
    """The CDK's declarative component schema: the one kept in this package when it was made from the very
    YAML the installed CDK ships, else parsed from that YAML as the CDK does."""
    raw = pkgutil.get_data("airbyte_cdk", _SCHEMA_YAML) or b""
    try:
        kept = pickle.loads(SCHEMA_KEPT.read_bytes())  # noqa: S301 - written by this package's own script
        if kept.get("sha256") == hashlib.sha256(raw).hexdigest():
            return kept["schema"]
    except (OSError, pickle.UnpicklingError, AttributeError, EOFError):
        pass
    from airbyte_cdk.utils.yaml_loader import safe_load_yaml

    return safe_load_yaml(raw)


def kept_component_schema() -> bytes:
    """What SCHEMA_KEPT should hold for the installed CDK (scripts/generate_schemas.py writes or checks it)."""
    from airbyte_cdk.utils.yaml_loader import safe_load_yaml

    raw = pkgutil.get_data("airbyte_cdk", _SCHEMA_YAML) or b""
    return pickle.dumps({"sha256": hashlib.sha256(raw).hexdigest(), "schema": safe_load_yaml(raw)}, protocol=4)
