"""The stack config reference table, generated from the model so the README cannot drift from it."""

from __future__ import annotations

import json
import typing
from typing import Any

from annotated_types import Ge, Le
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from sparkeks.config.model import PROJECT, StackConfig


def _type_name(annotation: Any) -> str:
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Literal:
        return " \\| ".join(f"`{a}`" for a in args)
    if origin is typing.Annotated:
        return _type_name(args[0])
    if origin in (list, tuple):
        return f"list of {_type_name(args[0])}"
    if origin is dict:
        return f"map of {_type_name(args[0])} to {_type_name(args[1])}"
    if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        return " or ".join(_type_name(a) for a in args if a is not type(None))
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        keys = ", ".join(f.alias or n for n, f in annotation.model_fields.items())
        return f"map ({keys})"
    return {str: "string", int: "integer", bool: "boolean"}.get(annotation, getattr(annotation, "__name__", str(annotation)))


def _is_section(annotation: Any) -> bool:
    """A nested model whose keys all have defaults is a section of its own rows; others are values."""
    return (
        isinstance(annotation, type)
        and issubclass(annotation, BaseModel)
        and not any(f.is_required() for f in annotation.model_fields.values())
    )


def _plain(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(by_alias=True, exclude_none=True)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _bounds(field: FieldInfo) -> str:
    low = next((m.ge for m in field.metadata if isinstance(m, Ge)), None)
    high = next((m.le for m in field.metadata if isinstance(m, Le)), None)
    return f" ({low}-{high})" if low is not None and high is not None else ""


def _default(field: FieldInfo) -> str:
    if field.is_required():
        return "required"
    documented = (field.json_schema_extra or {}).get("documented_default")  # type: ignore[union-attr]
    if documented:
        return str(documented)
    value = field.default_factory() if field.default_factory is not None else field.default  # type: ignore[call-arg]
    if value is PydanticUndefined or value is None:
        return "see description"
    if value == [] or value == {}:
        return "empty"
    return f"`{json.dumps(_plain(value))}`"


def _rows(model: type[BaseModel], prefix: str) -> list[str]:
    rows = []
    for name, field in model.model_fields.items():
        key = field.alias or name
        annotation = field.annotation
        provider_key = model is StackConfig and name in ("region", "allowed_account_ids")
        full_key = f"aws:{key}" if provider_key else f"{prefix}{key}"
        if _is_section(annotation):
            rows += _rows(annotation, f"{full_key}.")
            continue
        item = typing.get_args(annotation)[0] if typing.get_origin(annotation) is list else None
        if isinstance(item, type) and issubclass(item, BaseModel) and len(item.model_fields) > 4:
            # A list of records (teams): one row for the list, then a row per record key.
            rows.append(f"| `{full_key}` | list | {_default(field)} | {field.description} |")
            rows += _rows(item, f"{full_key}[].")
            continue
        rows.append(f"| `{full_key}` | {_type_name(annotation)}{_bounds(field)} | {_default(field)} | {field.description} |")
    return rows


def reference_table() -> str:
    header = ["| key | type | default | meaning |", "|---|---|---|---|"]
    return "\n".join(header + _rows(StackConfig, f"{PROJECT}:")) + "\n"
