"""Helm values: static base files in the project's helm-values/, merged with values computed at deploy time."""

from __future__ import annotations

import copy
from typing import Any

from sparkeks.project import helm_values


def base_values(chart: str) -> dict[str, Any]:
    """The static values of the project's `helm-values/<chart>.yaml` (a fresh copy each call)."""
    return copy.deepcopy(helm_values(chart))


def merge_values(base: dict[str, Any], computed: dict[str, Any]) -> dict[str, Any]:
    """Deep merge: maps merge key by key, anything else in `computed` replaces the base value.

    `base` is copied; `computed` values are taken as they are (they may hold Pulumi Outputs).
    """
    merged = copy.deepcopy(base)
    for key, value in computed.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge_values(merged[key], value)
        else:
            merged[key] = value
    return merged
