"""Turn pydantic validation errors into one line per problem: `<file>: <key>: <bad value>: <what is allowed>`.

Shared by everything that validates user files (stack config, job specs).
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable, Collection, Mapping
from typing import Any

from pydantic import BaseModel, ValidationError

Path = list[str | int]


def render(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, default=str) if value is not None else "(missing)"
    return text if len(text) <= 120 else text[:117] + "..."


_PLAIN_KEY = re.compile(r"^[A-Za-z0-9_:/@+-][A-Za-z0-9_.:/@+-]*$")


def key_part(part: object) -> str:
    """A key as written, quoted (JSON) when it has spaces, odd characters or is empty, so every
    problem stays one line whose key can be told from the rest."""
    text = str(part)
    return text if _PLAIN_KEY.match(text) else json.dumps(text)


def dotted(path: Path) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{key_part(part)}" if text else key_part(part))
    return text


def _model_at(root: type[BaseModel], path: Path) -> type[BaseModel] | None:
    """The model class found at an error location, walking by field aliases."""
    model: type[BaseModel] = root
    for part in path:
        if isinstance(part, int):
            continue
        field = next((f for n, f in model.model_fields.items() if (f.alias or n) == part), None)
        annotation = getattr(field, "annotation", None)
        args = getattr(annotation, "__args__", ()) if annotation is not None else ()
        candidates = [annotation, *args]
        annotation = next((a for a in candidates if isinstance(a, type) and issubclass(a, BaseModel)), None)
        if annotation is None:
            return None
        model = annotation
    return model


_SIMPLE = {
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "float_type": "must be a number",
    "string_type": "must be a string",
    "bool_type": "must be true or false",
    "list_type": "must be a list",
    "dict_type": "must be a mapping of keys to values",
    "model_type": "must be a mapping of keys to values",
    "model_attributes_type": "must be a mapping of keys to values",
}


def _reason(error: Mapping[str, Any], path: Path, root: type[BaseModel], hidden: Collection[str]) -> str:
    kind = error["type"]
    ctx = error.get("ctx") or {}
    if kind == "stack_config":
        return ctx["reason"]
    if kind == "extra_forbidden":
        model = _model_at(root, path[:-1])
        allowed = sorted((f.alias or n) for n, f in model.model_fields.items()) if model else []
        if not path[:-1]:
            allowed = [a for a in allowed if a not in hidden]
        close = difflib.get_close_matches(str(path[-1]), allowed, n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        return f"unknown key; {hint}allowed keys: {', '.join(allowed)}"
    if kind == "missing":
        return "is required"
    if kind == "literal_error":
        return f"must be one of {ctx['expected']}"
    if kind in _SIMPLE:
        return _SIMPLE[kind]
    bounds = {
        "greater_than": ("greater than", "gt"),
        "greater_than_equal": ("at least", "ge"),
        "less_than": ("less than", "lt"),
        "less_than_equal": ("at most", "le"),
    }
    if kind in bounds:
        words, name = bounds[kind]
        return f"must be {words} {ctx[name]}"
    if kind == "too_short":
        return f"must have at least {ctx['min_length']} entries"
    if kind == "too_long":
        return f"must have at most {ctx['max_length']} entries"
    return error["msg"]


def problem_lines(
    label: str,
    err: ValidationError,
    root: type[BaseModel],
    key_of: Callable[[Path], str] = dotted,
    hidden: Collection[str] = (),
) -> list[str]:
    """One line per pydantic error; `label` names the file, `key_of` renders a location as a key."""
    lines = []
    for error in err.errors(include_url=False):
        path: Path = list(error["loc"])
        value = error.get("input")
        ctx = error.get("ctx") or {}
        if "key" in ctx:
            # A key relative to the model that raised the problem; "" is the model (or field) itself.
            path += [int(p) if p.isdigit() else p for p in ctx["key"].split(".") if p]
            value = ctx["value"]
        if error["type"] == "missing":
            value = None
        lines.append(f"{label}: {key_of(path)}: {render(value)}: {_reason(error, path, root, hidden)}")
    return lines
