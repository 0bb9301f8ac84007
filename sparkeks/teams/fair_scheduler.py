"""Hadoop Fair Scheduler (fair-scheduler.xml allocations) to a queue tree with absolute amounts.

`minResources` becomes the guaranteed share and `maxResources` the max; a queue without minResources gets
its weight's share of what its parent guarantees beyond its siblings' minResources (the share fair
scheduling converges to when every queue is busy), reported as approximated.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from fractions import Fraction
from pathlib import Path

from sparkeks.teams.xmlfile import ImportProblems, read_xml
from sparkeks.teams.yarn import (
    APPROXIMATED,
    NO_EQUIVALENT,
    ONE_TO_ONE,
    Exact,
    Mapping,
    SchedulerFileReader,
    YarnQueue,
    decimal,
    describe,
)

_QUEUE_NOTES = {
    "maxRunningApps": "applications wait in the queue for capacity instead (gang scheduling)",
    "maxAMShare": "drivers run on their own pool (spark-driver), sized by its limits",
    "schedulingPolicy": "team queues are FIFO (gang scheduling needs it); capacity between teams follows guaranteed shares",
    "aclSubmitApps": "who may submit is Kubernetes RBAC on the team's namespace: bind these users/groups there",
    "aclAdministerApps": "queue administration is Kubernetes RBAC on the team's namespace",
    "minSharePreemptionTimeout": "one preemption delay for every queue: spark.preemptionDelay",
    "fairSharePreemptionTimeout": "one preemption delay for every queue: spark.preemptionDelay",
    "fairSharePreemptionThreshold": "preemption restores guaranteed shares, not a fraction of fair shares",
    "allowPreemptionFrom": "every team queue may be preempted above its guaranteed share, never below",
    "maxChildResources": "queues come from teams in the stack config, never created at run time",
    "reservation": "no reservation system",
    "maxContainerAllocation": "per-container limits are the team's limits.maxCpu / limits.maxMemory",
}
_TOP_NOTES = {
    "user": "teams have no per-user limits",
    "userMaxAppsDefault": "teams have no per-user limits",
    "queueMaxAppsDefault": "applications wait in the queue for capacity instead",
    "queueMaxResourcesDefault": "a team's max defaults to the capacity of its pools",
    "queueMaxAMShareDefault": "drivers run on their own pool (spark-driver)",
    "defaultQueueSchedulingPolicy": "team queues are FIFO (gang scheduling needs it)",
    "defaultFairSharePreemptionTimeout": "one preemption delay for every queue: spark.preemptionDelay",
    "defaultFairSharePreemptionThreshold": "preemption restores guaranteed shares",
    "defaultMinSharePreemptionTimeout": "one preemption delay for every queue: spark.preemptionDelay",
    "queuePlacementPolicy": "jobs land in their namespace's queue",
    "reservation-agent": "no reservation system",
    "reservation-policy": "no reservation system",
    "reservation-planner": "no reservation system",
}
_ABSOLUTE_OLD = re.compile(
    r"^\s*([0-9]+(?:\.[0-9]+)?)\s*(mb|vcores)\s*,\s*([0-9]+(?:\.[0-9]+)?)\s*(mb|vcores)\s*$", re.IGNORECASE
)
_PERCENT_ONE = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*%\s*$")
_PERCENT_TWO = re.compile(
    r"^\s*([0-9]+(?:\.[0-9]+)?)\s*%\s*(cpu|memory)\s*,\s*([0-9]+(?:\.[0-9]+)?)\s*%\s*(cpu|memory)\s*$", re.IGNORECASE
)


class _Reader(SchedulerFileReader):
    def read(self) -> YarnQueue:
        doc = read_xml(Path(self.label))
        if doc.tag != "allocations":
            raise ImportProblems([f"{self.label}: <{doc.tag}>: not a Fair Scheduler allocation file (expected <allocations>)"])
        root = YarnQueue("root")
        elements = list(doc)
        explicit_root = [e for e in elements if e.tag in ("queue", "pool") and e.get("name") == "root"]
        if explicit_root:
            elements = [e for e in elements if e not in explicit_root] + list(explicit_root[0])
        queues: list[tuple[ET.Element, YarnQueue]] = []
        for element in elements:
            if element.tag in ("queue", "pool"):
                queues.append((element, self._queue(element, "root")))
            elif element.tag in _TOP_NOTES:
                text = (element.text or "").strip() or element.get("name", "")
                self.mappings.append(
                    Mapping(
                        NO_EQUIVALENT, "(scheduler)", f"{element.tag}={text}" if text else element.tag, _TOP_NOTES[element.tag]
                    )
                )
            elif (
                element.tag
                in ("minResources", "maxResources", "weight", "schedulingPolicy", "aclSubmitApps", "aclAdministerApps")
                and explicit_root
            ):
                self.mappings.append(Mapping(NO_EQUIVALENT, "root", element.tag, "root is the whole stack"))
            else:
                self.fail(f"<{element.tag}>", None, "unknown element of <allocations>")
        if self.problems:
            raise ImportProblems(self.problems)
        root.children = [q for _, q in queues]
        self._resolve(root, [e for e, _ in queues], self.total, self.total)
        if self.problems:
            raise ImportProblems(self.problems)
        return root

    def _queue(self, element: ET.Element, parent: str) -> YarnQueue:
        name = element.get("name")
        if not name or "." in name:
            self.fail(f"{parent}.<{element.tag}>", name, "a queue needs a name without dots")
            name = name or "?"
        queue = YarnQueue(f"{parent}.{name}")
        for child in element:
            if child.tag in ("queue", "pool"):
                queue.children.append(self._queue(child, queue.path))
            elif child.tag not in ("minResources", "maxResources", "weight") and child.tag not in _QUEUE_NOTES:
                self.fail(f"{queue.path}.<{child.tag}>", (child.text or "").strip(), "unknown queue setting")
        return queue

    def _resources(self, where: str, text: str, total: Exact | None) -> Exact | None:
        """`"10240 mb, 10 vcores"`, `"vcores=10, memory-mb=10240"`, `"50%"` or `"40% cpu, 60% memory"` (of the cluster)."""
        old = _ABSOLUTE_OLD.match(text)
        if old:
            values = {old[2].lower(): Fraction(old[1]), old[4].lower(): Fraction(old[3])}
            if set(values) == {"mb", "vcores"}:
                return Exact(values["vcores"], values["mb"])
        if "=" in text:
            values = {}
            for part in [p.strip() for p in text.split(",") if p.strip()]:
                key, _, raw = part.partition("=")
                number = decimal(raw)
                if number is None:
                    break
                values[key.strip()] = number
            else:
                if {"vcores", "memory-mb"} <= set(values):
                    return Exact(values["vcores"], values["memory-mb"])
        percents = None
        one = _PERCENT_ONE.match(text)
        two = _PERCENT_TWO.match(text)
        if one:
            percents = (Fraction(one[1]), Fraction(one[1]))
        elif two and {two[2].lower(), two[4].lower()} == {"cpu", "memory"}:
            by = {two[2].lower(): Fraction(two[1]), two[4].lower(): Fraction(two[3])}
            percents = (by["cpu"], by["memory"])
        if percents is not None:
            if not all(0 <= p <= 100 for p in percents):
                self.fail(where, text, "percentages must be 0-100")
                return None
            if total is None:
                self.fail(where, text, "a percentage of the cluster needs --total-cpu and --total-memory, or --stack")
                return None
            return Exact(total.cpu * percents[0] / 100, total.memory_mib * percents[1] / 100)
        self.fail(where, text, 'must be like "10240 mb, 10 vcores", "vcores=10, memory-mb=10240", "50%" or "40% cpu, 60% memory"')
        return None

    def _resolve(
        self, parent: YarnQueue, elements: list[ET.Element], parent_guaranteed: Exact | None, parent_max: Exact | None
    ) -> None:
        weights: dict[str, Fraction] = {}
        minimums: dict[str, Exact] = {}
        for element, queue in zip(elements, parent.children):
            weight_text = (element.findtext("weight") or "1").strip()
            weight = decimal(weight_text)
            if weight is None or weight < 0:
                self.fail(f"{queue.path}.<weight>", weight_text, "must be a non-negative number")
                weight = Fraction(0)
            weights[queue.path] = weight
            min_text = element.findtext("minResources")
            if min_text is not None:
                amount = self._resources(f"{queue.path}.<minResources>", min_text.strip(), self.total)
                if amount is not None:
                    minimums[queue.path] = amount
                    queue.guaranteed = amount
                    self.mappings.append(
                        Mapping(ONE_TO_ONE, queue.path, f"minResources={min_text.strip()}", f"guaranteed {describe(amount)}")
                    )
            if min_text is not None and element.find("weight") is not None:
                self.mappings.append(
                    Mapping(NO_EQUIVALENT, queue.path, f"weight={weight_text}", "the guaranteed share comes from minResources")
                )
            max_text = element.findtext("maxResources")
            if max_text is not None:
                amount = self._resources(f"{queue.path}.<maxResources>", max_text.strip(), self.total)
                if amount is not None and parent_max is not None and not amount.fits_in(parent_max):
                    self.fail(
                        f"{queue.path}.<maxResources>",
                        max_text.strip(),
                        f"is more than {parent.path}'s max ({describe(amount)} > {describe(parent_max)})",
                    )
                queue.max = amount
                if amount is not None:
                    self.mappings.append(
                        Mapping(ONE_TO_ONE, queue.path, f"maxResources={max_text.strip()}", f"max {describe(amount)}")
                    )
            else:
                queue.max = parent_max
            if queue.guaranteed and queue.max and not queue.guaranteed.fits_in(queue.max):
                self.fail(
                    f"{queue.path}.<minResources>",
                    (min_text or "").strip(),
                    f"is more than its maxResources ({describe(queue.guaranteed)} > {describe(queue.max)})",
                )
            for tag, note in _QUEUE_NOTES.items():
                found = element.find(tag)
                if found is not None:
                    self.mappings.append(Mapping(NO_EQUIVALENT, queue.path, f"{tag}={(found.text or '').strip()}", note))
        promised = Exact(Fraction(0), Fraction(0))
        for amount in minimums.values():
            promised = promised + amount
        if parent_guaranteed is not None and minimums and not promised.fits_in(parent_guaranteed):
            self.fail(
                f"{parent.path}",
                None,
                f"minResources of its children add up to {describe(promised)}, more than {parent.path} guarantees ({describe(parent_guaranteed)})",
            )
            return
        rest = [q for q in parent.children if q.path not in minimums]
        weight_sum = sum((weights[q.path] for q in rest), Fraction(0))
        for queue in rest:
            weight = weights[queue.path]
            if parent_guaranteed is None:
                self.mappings.append(
                    Mapping(
                        NO_EQUIVALENT,
                        queue.path,
                        f"weight={float(weight):g}",
                        "no guaranteed share: needs --total-cpu/--total-memory or --stack",
                    )
                )
                continue
            if weight == 0 or weight_sum == 0:
                self.mappings.append(
                    Mapping(NO_EQUIVALENT, queue.path, f"weight={float(weight):g}", "no guaranteed share (weight 0)")
                )
                continue
            left = Exact(parent_guaranteed.cpu - promised.cpu, parent_guaranteed.memory_mib - promised.memory_mib)
            queue.guaranteed = left.scale(weight / weight_sum)
            if queue.max is not None and not queue.guaranteed.fits_in(queue.max):
                queue.guaranteed = Exact(
                    min(queue.guaranteed.cpu, queue.max.cpu), min(queue.guaranteed.memory_mib, queue.max.memory_mib)
                )
            self.mappings.append(
                Mapping(
                    APPROXIMATED,
                    queue.path,
                    f"weight={float(weight):g}",
                    f"{float(weight / weight_sum * 100):g}% of what {parent.path} guarantees beyond minResources, within its max: guaranteed {describe(queue.guaranteed)}",
                )
            )
        for element, queue in zip(elements, parent.children):
            children = [c for c in element if c.tag in ("queue", "pool")]
            if children:
                self._resolve(queue, children, queue.guaranteed, queue.max)


def read_fair_scheduler(path: Path, total: Exact | None) -> tuple[YarnQueue, list[Mapping]]:
    return _Reader(path, total).imported()
