"""Which pins are supported: versions.py's pins joined with the support facts in support.yaml.

A row is one pinned release line (a Spark line, a Kubernetes minor, or a component's single pin). Its
status is `supported`, `end of life`, `advisory` (a published advisory affects the pinned version) or,
where a dated waiver accepts one of those, `waived until <date>`. `check()` lists what fails on a day.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sparkeks import versions

SUPPORT_FILE = Path(__file__).with_name("support.yaml")


def _kubernetes_lines() -> list[tuple[str, str]]:
    return [(minor, minor) for minor in versions.SUPPORTED_KUBERNETES_VERSIONS]


def _addon_lines() -> list[tuple[str, str]]:
    pins = versions.eks_addon_versions(versions.DEFAULT_KUBERNETES_VERSION)
    return [("", ", ".join(f"{name} {pins[name]}" for name in (*versions.EKS_ADDONS_BEFORE_NODES, *versions.EKS_ADDONS_AFTER_NODES)))]


def _spark_lines() -> list[tuple[str, str]]:
    return [(line, runtime.spark_version) for line, runtime in versions.SPARK_RUNTIMES.items()]


def _single(pin: str) -> Callable[[], list[tuple[str, str]]]:
    return lambda: [("", getattr(versions, pin))]


# Component -> its pinned (line, version) pairs, read from versions.py. Every `*_VERSION` pin there must be
# covered here (a test walks versions.py), so a new pin cannot land without its support facts.
PINNED: dict[str, Callable[[], list[tuple[str, str]]]] = {
    "kubernetes": _kubernetes_lines,
    "eks-addons": _addon_lines,
    "karpenter": _single("KARPENTER_VERSION"),
    "ami": lambda: [("", versions.AL2023_AMI_ALIAS)],
    "spark-operator": _single("SPARK_OPERATOR_VERSION"),
    "yunikorn": _single("YUNIKORN_VERSION"),
    "celeborn": _single("CELEBORN_VERSION"),
    "spark": _spark_lines,
    "dataflint": _single("DATAFLINT_VERSION"),
    "kube-prometheus-stack": _single("KUBE_PROMETHEUS_STACK_VERSION"),
    "loki": _single("LOKI_VERSION"),
    "fluent-bit": _single("FLUENT_BIT_VERSION"),
    "opencost": _single("OPENCOST_VERSION"),
    "oauth2-proxy": _single("OAUTH2_PROXY_VERSION"),
}
# versions.py constants that are pins of a component above (the default Kubernetes minor is one of its lines).
PIN_CONSTANTS = {
    "DEFAULT_KUBERNETES_VERSION": "kubernetes",
    "KARPENTER_VERSION": "karpenter",
    "SPARK_OPERATOR_VERSION": "spark-operator",
    "YUNIKORN_VERSION": "yunikorn",
    "CELEBORN_VERSION": "celeborn",
    "CELEBORN_CHART_VERSION": "celeborn",
    "DATAFLINT_VERSION": "dataflint",
    "KUBE_PROMETHEUS_STACK_VERSION": "kube-prometheus-stack",
    "LOKI_VERSION": "loki",
    "FLUENT_BIT_VERSION": "fluent-bit",
    "OPENCOST_VERSION": "opencost",
    "OAUTH2_PROXY_VERSION": "oauth2-proxy",
}


class SupportFileError(ValueError):
    """The support file is malformed; the message names the entry."""


def _date(value: Any, where: str) -> dt.date:
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise SupportFileError(f"{where}: {value!r} is not a date like 2027-03-31") from None


def version_key(version: str) -> tuple[int, ...]:
    """`1.10.0` -> (1, 10, 0); non-numeric parts (`v`, `eksbuild`) are ignored."""
    return tuple(int(n) for n in re.findall(r"\d+", version))


def _affects(pinned: str, fixed_in: str) -> bool:
    return version_key(pinned) < version_key(fixed_in)


@dataclass(frozen=True)
class Advisory:
    id: str
    fixed_in: str
    impact: str


@dataclass(frozen=True)
class Waiver:
    component: str
    line: str
    kind: str
    reason: str
    expires: dt.date


@dataclass
class Row:
    component: str
    title: str
    line: str
    pinned: str
    newest: str | None
    end_of_life: dt.date | None
    standard_support_ends: dt.date | None
    advisories: list[Advisory] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    """What fails the check on the day evaluated (empty when supported or waived)."""
    waived: list[Waiver] = field(default_factory=list)
    evaluated_on: dt.date = dt.date.min

    @property
    def status(self) -> str:
        if self.problems:
            return "; ".join(self.problems)
        if self.waived:
            return "waived until " + ", ".join(sorted({w.expires.isoformat() for w in self.waived}))
        if self.standard_support_ends is not None and self.standard_support_ends <= self.evaluated_on:
            return "extended support (extra cost)"
        return "supported"


@dataclass
class SupportReport:
    checked: dt.date
    on: dt.date
    rows: list[Row]

    @property
    def failures(self) -> list[str]:
        return [f"{r.component}{' ' + r.line if r.line else ''} ({r.pinned}): {p}" for r in self.rows for p in r.problems]


def load_support(path: Path = SUPPORT_FILE) -> dict[str, Any]:
    from sparkeks import yamlio

    data = yamlio.load(path.read_text())
    if not isinstance(data, dict) or not isinstance(data.get("components"), dict):
        raise SupportFileError(f"{path.name}: needs a `components` mapping")
    return data


def support_checked(path: Path = SUPPORT_FILE) -> dt.date:
    """The day the support facts were last checked against their sources (the file's `checked`)."""
    return _date(load_support(path).get("checked"), f"{path.name}: checked")


def kubernetes_standard_support_ends(minor: str, path: Path = SUPPORT_FILE) -> dt.date | None:
    """The day EKS standard support of a Kubernetes minor ends, per the support file (None where it gives none)."""
    eol = (load_support(path)["components"].get("kubernetes") or {}).get("endOfLife") or {}
    ends = (eol.get(minor) or {}).get("standardSupportEnds")
    return _date(ends, f"{path.name}: kubernetes.endOfLife.{minor}.standardSupportEnds") if ends else None


def _waivers(data: dict[str, Any], path: Path) -> list[Waiver]:
    waivers = []
    for index, entry in enumerate(data.get("waivers") or []):
        where = f"{path.name}: waivers[{index}]"
        missing = [k for k in ("component", "kind", "reason", "expires") if not entry.get(k)]
        if missing:
            raise SupportFileError(f"{where}: missing {', '.join(missing)} (a waiver states what, why and until when)")
        if entry["kind"] not in ("endOfLife", "advisory"):
            raise SupportFileError(f"{where}: kind {entry['kind']!r}: allowed: endOfLife, advisory")
        if entry["kind"] == "advisory" and not entry.get("advisory"):
            raise SupportFileError(f"{where}: an advisory waiver names the advisory id")
        waivers.append(
            Waiver(
                component=entry["component"],
                line=str(entry.get("line") or entry.get("advisory") or ""),
                kind=entry["kind"],
                reason=" ".join(str(entry["reason"]).split()),
                expires=_date(entry["expires"], f"{where}.expires"),
            )
        )
    return waivers


def evaluate(on: dt.date | None = None, path: Path = SUPPORT_FILE) -> SupportReport:
    """Every pinned line with its support status on `on` (today by default)."""
    on = on or dt.date.today()
    data = load_support(path)
    components: dict[str, Any] = data["components"]
    unknown = sorted(set(PINNED) - set(components))
    if unknown:
        raise SupportFileError(f"{path.name}: no support facts for pinned component(s) {', '.join(unknown)}")
    waivers = _waivers(data, path)
    rows = []
    for component, pinned_lines in PINNED.items():
        facts = components[component]
        eol = facts.get("endOfLife") or {}
        advisories = [
            Advisory(a["id"], str(a["fixedIn"]), " ".join(str(a["impact"]).split())) for a in facts.get("advisories") or []
        ]
        for line, pinned in pinned_lines():
            line_eol = eol.get(line) or eol.get("") or {}
            row = Row(
                component=component,
                title=facts.get("title", component),
                line=line,
                pinned=pinned,
                newest=facts.get("newest"),
                end_of_life=_date(line_eol["date"], f"{component}.endOfLife.{line}") if line_eol.get("date") else None,
                standard_support_ends=(
                    _date(line_eol["standardSupportEnds"], f"{component}.endOfLife.{line}") if line_eol.get("standardSupportEnds") else None
                ),
                advisories=[a for a in advisories if _affects(pinned, a.fixed_in)],
                evaluated_on=on,
            )
            _judge(row, on, waivers)
            rows.append(row)
    return SupportReport(checked=_date(data.get("checked"), f"{path.name}: checked"), on=on, rows=rows)


def _judge(row: Row, on: dt.date, waivers: list[Waiver]) -> None:
    """Record each failure on `row`, unless an unexpired waiver for exactly that failure accepts it."""

    def accept_or_fail(kind: str, key: str, problem: str) -> None:
        accepted = next((w for w in waivers if w.component == row.component and w.kind == kind and w.line == key), None)
        if accepted is None:
            row.problems.append(problem)
        elif accepted.expires < on:
            row.problems.append(f"{problem}; its waiver expired {accepted.expires.isoformat()}")
        else:
            row.waived.append(accepted)

    if row.end_of_life is not None and row.end_of_life <= on:
        accept_or_fail("endOfLife", row.line, f"past end of life since {row.end_of_life.isoformat()}")
    for advisory in row.advisories:
        accept_or_fail("advisory", advisory.id, f"{advisory.id} (fixed in {advisory.fixed_in})")


def _cell(value: str) -> str:
    return value.replace("|", "\\|")


def markdown_table(report: SupportReport) -> str:
    """The README's "Versions and support" table."""
    lines = [
        f"Support facts checked {report.checked.isoformat()}; status as of {report.on.isoformat()}.",
        "",
        "| component | line | pinned | newest known | end of life | advisories on the pin | status |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in report.rows:
        eol = r.end_of_life.isoformat() if r.end_of_life else "not published"
        if r.standard_support_ends:
            eol += f" (standard support to {r.standard_support_ends.isoformat()})"
        advisories = ", ".join(f"{a.id} (fixed in {a.fixed_in})" for a in r.advisories) or "none known"
        lines.append(
            f"| {_cell(r.title)} | {r.line or '-'} | {_cell(r.pinned)} | {r.newest or 'not checked'} | {eol} | {advisories} | {r.status} |"
        )
    waived = [w for r in report.rows for w in r.waived]
    if waived:
        lines += ["", "Waivers:", ""]
        lines += [f"- {w.component} {w.line} ({w.kind}, until {w.expires.isoformat()}): {w.reason}" for w in waived]
    return "\n".join(lines) + "\n"
