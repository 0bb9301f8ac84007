"""Report every independent problem of a file in one run, not the first one and then the next.

Pydantic reports every wrong field of a model at once, but skips a model's cross-field checks as soon as
any field is wrong: a misspelt NAT strategy hid a team declared twice until it was fixed. Here the
cross-field checks say which top-level keys they read; when some keys are wrong, the model is built once
more without them (their defaults stand in) and every check that reads none of them still runs.
"""

from __future__ import annotations

import typing
from collections.abc import Callable, Iterable
from typing import Any

from pydantic import ValidationError
from pydantic_core import PydanticCustomError, core_schema

CrossCheck = Callable[[Any], Iterable[PydanticCustomError]]
_KNOWN_TYPES = frozenset(typing.get_args(core_schema.ErrorType))


def reads(*keys: str) -> Callable[[CrossCheck], CrossCheck]:
    """Declare the top-level keys (as written in the file) a cross-check depends on."""

    def mark(check: CrossCheck) -> CrossCheck:
        check.reads = frozenset(keys)  # type: ignore[attr-defined]
        return check

    return mark


def _line_error(error: dict[str, Any]) -> dict[str, Any]:
    """A pydantic error as the line-error input `ValidationError.from_exception_data` takes back."""
    ctx = error.get("ctx")
    if error["type"] in _KNOWN_TYPES:
        kind: Any = error["type"]
    elif ctx and "reason" in ctx:
        kind = PydanticCustomError(error["type"], "{reason}", ctx)
        ctx = None
    else:
        kind = PydanticCustomError(error["type"], "{reason}", {"reason": error["msg"]})
        ctx = None
    line = {"type": kind, "loc": tuple(error["loc"]), "input": error.get("input")}
    if ctx:
        line["ctx"] = ctx
    return line


def raise_with(title: str, err: ValidationError | None, problems: list[PydanticCustomError], data: Any) -> None:
    """Raise the errors of `err` (if any) together with `problems` (located at the model itself)."""
    if not problems:
        if err is not None:
            raise err
        return
    lines = [_line_error(e) for e in err.errors(include_url=False)] if err is not None else []
    lines += [{"type": p, "loc": (), "input": data} for p in problems]
    raise ValidationError.from_exception_data(title, lines)


def validate_all(title: str, data: Any, handler: Callable[[Any], Any], checks: Iterable[CrossCheck]) -> Any:
    """Body of a `model_validator(mode="wrap")`: fields, then every cross-check whose keys validated."""
    failed: frozenset[str] = frozenset()
    err: ValidationError | None = None
    try:
        model = handler(data)
    except ValidationError as first:
        locations = [e["loc"] for e in first.errors(include_url=False)]
        if not isinstance(data, dict) or any(not loc for loc in locations):
            raise
        err = first
        failed = frozenset(str(loc[0]) for loc in locations)
        try:
            model = handler({k: v for k, v in data.items() if k not in failed})
        except ValidationError:
            raise first from None
    problems = [p for check in checks if not (check.reads & failed) for p in check(model)]  # type: ignore[attr-defined]
    raise_with(title, err, problems, data)
    return model


def also_check(value: Any, handler: Callable[[Any], Any], problems: list[PydanticCustomError], title: str) -> Any:
    """Body of a field `mode="wrap"` validator whose own problems (found on the raw value) must be
    reported together with those of the items, not instead of them."""
    try:
        result = handler(value)
    except ValidationError as err:
        raise_with(title, err, problems, value)
        raise
    raise_with(title, None, problems, value)
    return result
