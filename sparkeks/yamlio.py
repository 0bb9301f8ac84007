"""YAML read and written in bulk (plans, chart values, CRD schemas) through libyaml when PyYAML has it.

The C emitter and parser produce and accept exactly what the pure-Python ones do for the safe subset the
project uses (a test compares a whole plan byte for byte); they are several times faster, which matters
once a plan holds thousands of manifests. Small, user-facing files (stack files, job specs) keep the
loaders that report positions their own way.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import yaml

_FastLoader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_FastDumperBase: type = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def _literal_multiline(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    # Scripts and JSON documents stay readable in review: multi-line strings as literal blocks.
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|" if "\n" in value else None)


class _BlockDumper(_FastDumperBase):  # type: ignore[misc, valid-type]
    """Block style, literal multi-line strings, no anchors (each manifest stands alone)."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


class _PureBlockDumper(yaml.SafeDumper):
    """The pure-Python twin of _BlockDumper: the reference the fast one is tested against."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


for _dumper in (_BlockDumper, _PureBlockDumper):
    _dumper.add_representer(str, _literal_multiline)

_DUMP_OPTIONS = {"sort_keys": False, "default_flow_style": False, "width": 120, "allow_unicode": True}


def to_yaml(data: Any, *, pure: bool = False) -> str:
    """The project's YAML form of `data` (plans, rendered jobs). `pure` selects the Python emitter."""
    return yaml.dump(data, Dumper=_PureBlockDumper if pure else _BlockDumper, **_DUMP_OPTIONS)


def load(text: str) -> Any:
    """Parse one trusted YAML document (plan files, chart values, schemas) with the fast safe loader."""
    return yaml.load(text, Loader=_FastLoader)  # noqa: S506 - a safe loader, C or Python


def load_all(text: str) -> Iterator[Any]:
    return yaml.load_all(text, Loader=_FastLoader)  # noqa: S506 - a safe loader, C or Python


def has_libyaml() -> bool:
    return _FastLoader is not yaml.SafeLoader and _FastDumperBase is not yaml.SafeDumper
