"""What both YARN schedulers' configs become before they are teams: a queue tree with exact amounts."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

ONE_TO_ONE = "one-to-one"
APPROXIMATED = "approximated"
NO_EQUIVALENT = "no equivalent"


@dataclass(frozen=True)
class Exact:
    """CPU and memory (MiB) as exact fractions, so percentages of percentages add up without drift."""

    cpu: Fraction
    memory_mib: Fraction

    def scale(self, factor: Fraction) -> Exact:
        return Exact(self.cpu * factor, self.memory_mib * factor)

    def __add__(self, other: Exact) -> Exact:
        return Exact(self.cpu + other.cpu, self.memory_mib + other.memory_mib)

    def fits_in(self, other: Exact) -> bool:
        return self.cpu <= other.cpu and self.memory_mib <= other.memory_mib


@dataclass(frozen=True)
class Mapping:
    kind: str  # ONE_TO_ONE, APPROXIMATED or NO_EQUIVALENT
    queue: str
    setting: str
    note: str


@dataclass
class YarnQueue:
    path: str
    children: list[YarnQueue] = field(default_factory=list)
    guaranteed: Exact | None = None
    max: Exact | None = None
    stopped: bool = False
    max_container: tuple[int | None, int | None] = (None, None)  # (vcores, MiB) per container

    @property
    def name(self) -> str:
        return self.path.rsplit(".", 1)[-1]


def decimal(text: str) -> Fraction | None:
    """`12.5` -> Fraction(25, 2); None when it is not a plain decimal number."""
    text = text.strip()
    if not re.fullmatch(r"-?[0-9]+(\.[0-9]+)?", text):
        return None
    return Fraction(text)


def format_mib(mib: int) -> str:
    return f"{mib // 1024}Gi" if mib % 1024 == 0 else f"{mib}Mi"


def _number(value: Fraction) -> str:
    return str(int(value)) if value.denominator == 1 else f"{float(value):.2f}".rstrip("0").rstrip(".")


def describe(amount: Exact) -> str:
    """Exact amounts as computed, before rounding down: `337.5 cpu, 1350Gi`."""
    mib = amount.memory_mib
    memory = format_mib(int(mib)) if mib.denominator == 1 and (mib % 1024 == 0 or mib < 1024) else f"{_number(mib / 1024)}Gi"
    return f"{_number(amount.cpu)} cpu, {memory}"


class SchedulerFileReader:
    """What both scheduler-file readers share: the file's label, the amounts' total, and every problem and
    mapping collected on the way, so one run reports them all."""

    def __init__(self, path: Path, total: Exact | None):
        self.label = str(path)
        self.total = total
        self.problems: list[str] = []
        self.mappings: list[Mapping] = []

    def fail(self, where: str, value: str | None, reason: str) -> None:
        shown = "(missing)" if value is None else f'"{value}"'
        self.problems.append(f"{self.label}: {where}: {shown}: {reason}")

    def read(self) -> YarnQueue:
        raise NotImplementedError

    def imported(self) -> tuple[YarnQueue, list[Mapping]]:
        tree = self.read()
        return tree, self.mappings
