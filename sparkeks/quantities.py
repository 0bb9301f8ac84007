"""Kubernetes resource quantities (`500m`, `2`, `512Mi`, `1G`) as integers: CPU in millicores, memory in MiB."""

from __future__ import annotations

import math
import re
from typing import Any

_QUANTITY = re.compile(r"^([0-9]+(?:\.[0-9]+)?)([a-zA-Z]*)$")
_MEMORY_SUFFIX = {"": 1, "k": 1000, "M": 1000**2, "G": 1000**3, "T": 1000**4, "Ki": 1024, "Mi": 1024**2, "Gi": 1024**3, "Ti": 1024**4}


class QuantityError(ValueError):
    pass


def _split(value: Any) -> tuple[float, str]:
    match = _QUANTITY.match(str(value).strip())
    if not match:
        raise QuantityError(f"{value!r} is not a Kubernetes quantity")
    return float(match.group(1)), match.group(2)


def cpu_millis(value: Any) -> int:
    """`500m` -> 500, `2` -> 2000, `0.25` -> 250 (rounded up, as the scheduler counts)."""
    number, suffix = _split(value)
    if suffix == "m":
        return math.ceil(number)
    if suffix:
        raise QuantityError(f"{value!r} is not a CPU quantity")
    return math.ceil(number * 1000)


def memory_mib(value: Any) -> float:
    """`512Mi` -> 512, `1Gi` -> 1024, `1G` -> 953.67..., plain bytes too."""
    number, suffix = _split(value)
    if suffix not in _MEMORY_SUFFIX:
        raise QuantityError(f"{value!r} is not a memory quantity")
    return number * _MEMORY_SUFFIX[suffix] / 1024**2
