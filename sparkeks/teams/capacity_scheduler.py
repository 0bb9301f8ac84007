"""Hadoop CapacityScheduler (capacity-scheduler.xml) to a queue tree with absolute amounts.

Property names and semantics are CapacityScheduler's: `<queue-path>.queues` lists children; `capacity` is a
percentage of the parent (siblings add up to 100), a weight (`2w`, a share of the siblings' weights) or an
absolute resource (`[memory=10240,vcores=12]`, memory in MB); `maximum-capacity` is a percentage of the
parent's maximum (default 100, -1 = 100) or absolute.
"""

from __future__ import annotations

import re
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
    format_mib,
)

PREFIX = "yarn.scheduler.capacity."

# Queue properties this importer converts or reports (CapacityScheduler documentation).
_QUEUE_NOTES = {
    "user-limit-factor": "a single user's share of the queue; a team's jobs share its queue with no per-user cap",
    "minimum-user-limit-percent": "per-user minimum within the queue; teams have no per-user shares",
    "acl_submit_applications": "who may submit is Kubernetes RBAC on the team's namespace: bind these users/groups there",
    "acl_administer_queue": "queue administration is Kubernetes RBAC on the team's namespace",
    "maximum-applications": "YuniKorn queues take any number of applications; the ResourceQuota's pod count bounds a team",
    "max-parallel-apps": "applications wait in the queue for capacity instead (gang scheduling)",
    "maximum-am-resource-percent": "drivers run on their own pool (spark-driver), sized by its limits",
    "maximum-application-lifetime": "no lifetime limit; SparkApplications are cleaned up a week after they finish",
    "default-application-lifetime": "no lifetime limit; SparkApplications are cleaned up a week after they finish",
    "priority": "queues have no priority of their own; drivers outrank executors everywhere",
    "default-application-priority": "applications have no priority of their own",
    "disable_preemption": "every team queue may be preempted above its guaranteed share, never below",
    "intra-queue-preemption.disable_preemption": "no preemption inside a queue",
    "accessible-node-labels": "node access is the team's pools (driver, executor, executorNvme)",
    "default-node-label-expression": "node access is the team's pools (driver, executor, executorNvme)",
    "auto-create-child-queue.enabled": "queues come from teams in the stack config, never auto-created",
    "auto-queue-creation-v2.enabled": "queues come from teams in the stack config, never auto-created",
    "reservable": "no reservation system",
}
_QUEUE_PREFIXES = (
    "accessible-node-labels.",
    "leaf-queue-template.",
    "auto-queue-creation-v2.",
    "auto-create-child-queue.",
    "user-settings.",
    "ordering-policy.",
    "intra-queue-preemption.",
)
_CONVERTED = {
    "queues",
    "capacity",
    "maximum-capacity",
    "state",
    "ordering-policy",
    "maximum-allocation-mb",
    "maximum-allocation-vcores",
}
_GLOBAL = {
    "maximum-applications",
    "maximum-am-resource-percent",
    "max-parallel-apps",
    "resource-calculator",
    "node-locality-delay",
    "rack-locality-additional-delay",
    "rack-locality-full-reset",
    "queue-mappings",
    "queue-mappings-override.enable",
    "per-node-heartbeat.maximum-offswitch-assignments",
    "per-node-heartbeat.multiple-assignments-enabled",
    "per-node-heartbeat.maximum-container-assignments",
    "schedule-asynchronously.enable",
    "schedule-asynchronously.maximum-threads",
    "user-limit-factor",
    "minimum-user-limit-percent",
    "application.fail-fast",
    "workflow-priority-mappings",
    "workflow-priority-mappings-override.enable",
    "lazy-preemption-enabled",
    "global-queue-max-application",
    "assignment.max-containers",
    "multi-node-placement-enabled",
    "legacy-queue-mode.enabled",
}
_GLOBAL_PREFIXES = (
    "user.",
    "multi-node-sorting.",
    "schedule-asynchronously.",
    "queue-mappings",
    "node-locality-delay",
    "reservation",
)

_ABSOLUTE = re.compile(r"^\[(.*)\]$")
_WEIGHT = re.compile(r"^([0-9]+(\.[0-9]+)?)w$")


class _Reader(SchedulerFileReader):
    def __init__(self, path: Path, total: Exact | None):
        super().__init__(path, total)
        self.props: dict[str, str] = {}

    def read(self) -> YarnQueue:
        root = read_xml(Path(self.label))
        if root.tag != "configuration":
            raise ImportProblems([f"{self.label}: <{root.tag}>: not a Hadoop configuration file (expected <configuration>)"])
        for prop in root.iter("property"):
            name = (prop.findtext("name") or "").strip()
            value = (prop.findtext("value") or "").strip()
            if not name:
                self.fail("<property>", None, "has no <name>")
                continue
            self.props[name] = value
        tree = self._queue("root")
        self._check_properties(tree)
        if self.problems:
            raise ImportProblems(self.problems)
        self._resolve(tree, parent_guaranteed=self.total, parent_max=self.total)
        if self.problems:
            raise ImportProblems(self.problems)
        return tree

    def _queue(self, path: str) -> YarnQueue:
        queue = YarnQueue(path)
        listed = self.props.get(f"{PREFIX}{path}.queues", "")
        seen = set()
        for child in [c.strip() for c in listed.split(",") if c.strip()]:
            if child in seen:
                self.fail(f"{PREFIX}{path}.queues", listed, f"lists {child} twice")
                continue
            seen.add(child)
            queue.children.append(self._queue(f"{path}.{child}"))
        state = self.props.get(f"{PREFIX}{path}.state", "RUNNING")
        if state not in ("RUNNING", "STOPPED"):
            self.fail(f"{PREFIX}{path}.state", state, "must be RUNNING or STOPPED")
        queue.stopped = state == "STOPPED"
        return queue

    def _check_properties(self, tree: YarnQueue) -> None:
        paths: list[str] = []

        def collect(q: YarnQueue) -> None:
            paths.append(q.path)
            for c in q.children:
                collect(c)

        collect(tree)
        by_length = sorted(paths, key=len, reverse=True)
        for name, value in self.props.items():
            if not name.startswith(PREFIX):
                self.fail(name, value, f"unknown property: not a CapacityScheduler setting ({PREFIX}...)")
                continue
            rest = name[len(PREFIX) :]
            if rest == "root" or rest.startswith("root."):
                queue = next(p for p in by_length if rest == p or rest.startswith(p + "."))
                setting = rest[len(queue) + 1 :]
                if setting in _CONVERTED:
                    continue
                if setting in _QUEUE_NOTES or setting.startswith(_QUEUE_PREFIXES):
                    note = _QUEUE_NOTES.get(setting) or _QUEUE_NOTES.get(setting.split(".")[0], "no team setting corresponds")
                    shown = value if value or not setting.startswith("acl_") else "' ' (nobody)"
                    self.mappings.append(Mapping(NO_EQUIVALENT, queue, f"{setting}={shown}", note))
                    continue
                self.fail(
                    name,
                    value,
                    f"unknown property {setting!r} of queue {queue} (not a child queue listed in its .queues, nor a queue setting)",
                )
                continue
            if rest in _GLOBAL or rest.startswith(_GLOBAL_PREFIXES):
                note = (
                    "jobs land in their namespace's queue"
                    if rest.startswith("queue-mappings")
                    else "no platform setting corresponds"
                )
                self.mappings.append(Mapping(NO_EQUIVALENT, "(scheduler)", f"{rest}={value}", note))
                continue
            self.fail(name, value, "unknown property: not a CapacityScheduler setting")

    def _amount(self, name: str, text: str) -> Exact | None:
        match = _ABSOLUTE.match(text)
        assert match
        cpu: Fraction | None = None
        memory: Fraction | None = None
        for part in [p.strip() for p in match[1].split(",") if p.strip()]:
            key, _, raw = part.partition("=")
            number = decimal(raw)
            if number is None or number < 0:
                self.fail(name, text, f"{key.strip()}: must be a non-negative number")
                return None
            key = key.strip()
            if key in ("memory", "memory-mb"):
                memory = number  # MB in YARN's configuration are MiB
            elif key == "vcores":
                cpu = number
            else:
                self.mappings.append(
                    Mapping(
                        NO_EQUIVALENT,
                        name[len(PREFIX) :].rsplit(".", 1)[0],
                        f"{key}={raw}",
                        "only CPU and memory are queue resources",
                    )
                )
        if cpu is None or memory is None:
            self.fail(name, text, "an absolute resource needs memory=<MB> and vcores=<n>")
            return None
        return Exact(cpu, memory)

    def _resolve(self, queue: YarnQueue, parent_guaranteed: Exact | None, parent_max: Exact | None) -> None:
        """Absolute guaranteed and max of each child from its parent's (None: unknown without a total)."""
        if not queue.children:
            return
        kinds = {}
        for child in queue.children:
            text = self.props.get(f"{PREFIX}{child.path}.capacity", "0")
            kinds[child.path] = "absolute" if _ABSOLUTE.match(text) else "weight" if _WEIGHT.match(text) else "percent"
        if len(set(kinds.values())) > 1:
            self.fail(
                f"{PREFIX}{queue.path}.queues",
                self.props.get(f"{PREFIX}{queue.path}.queues"),
                f"children of {queue.path} mix capacity modes ({', '.join(f'{k.rsplit(chr(46), 1)[-1]}: {v}' for k, v in kinds.items())}); siblings use one",
            )
            return
        mode = next(iter(kinds.values()))
        if mode != "absolute" and parent_guaranteed is None and queue.path == "root":
            self.fail(
                f"{PREFIX}root.queues",
                self.props.get(f"{PREFIX}root.queues"),
                f"capacities are {'weights' if mode == 'weight' else 'percentages'}: give --total-cpu and --total-memory, or --stack, for 100%",
            )
            return
        weights = (
            {c.path: Fraction(_WEIGHT.match(self.props[f"{PREFIX}{c.path}.capacity"])[1]) for c in queue.children}
            if mode == "weight"
            else {}
        )
        if mode == "percent":
            shares = {}
            for child in queue.children:
                name = f"{PREFIX}{child.path}.capacity"
                text = self.props.get(name, "0")
                value = decimal(text)
                if value is None or not 0 <= value <= 100:
                    self.fail(name, text, "must be a percentage (0-100), a weight like 2w, or [memory=<MB>,vcores=<n>]")
                    return
                shares[child.path] = value
            added = sum(shares.values(), Fraction(0))
            if added != 100:
                self.fail(
                    f"{PREFIX}{queue.path}.queues",
                    self.props.get(f"{PREFIX}{queue.path}.queues"),
                    f"capacities of the children of {queue.path} add up to {float(added):g}%, must be 100%",
                )
                return
        for child in queue.children:
            cap_name = f"{PREFIX}{child.path}.capacity"
            cap_text = self.props.get(cap_name, "0")
            max_name = f"{PREFIX}{child.path}.maximum-capacity"
            max_text = self.props.get(max_name)
            if mode == "absolute":
                child.guaranteed = self._amount(cap_name, cap_text)
                self.mappings.append(
                    Mapping(
                        ONE_TO_ONE,
                        child.path,
                        f"capacity={cap_text}",
                        f"guaranteed {describe(child.guaranteed)}" if child.guaranteed else "invalid",
                    )
                )
            else:
                if mode == "percent":
                    share = shares[child.path] / 100
                    label = f"{float(shares[child.path]):g}% of {queue.path}"
                    kind = ONE_TO_ONE
                else:
                    share = weights[child.path] / sum(weights.values(), Fraction(0))
                    label = f"weight {cap_text} of {float(sum(weights.values())):g} under {queue.path} = {float(share * 100):g}%"
                    kind = APPROXIMATED
                child.guaranteed = parent_guaranteed.scale(share) if parent_guaranteed else None
                result = (
                    f"guaranteed {describe(child.guaranteed)}"
                    if child.guaranteed
                    else "guaranteed: needs --total-cpu/--total-memory or --stack"
                )
                self.mappings.append(Mapping(kind, child.path, f"capacity={cap_text}", f"{label}: {result}"))
            child.max = self._max(child, max_name, max_text, parent_max)
            if child.guaranteed and child.max and not child.guaranteed.fits_in(child.max):
                self.fail(
                    cap_name,
                    cap_text,
                    f"is more than {child.path}'s maximum-capacity ({describe(child.guaranteed)} > {describe(child.max)})",
                )
            self._container_limits(child)
            self._ordering(child)
            if child.stopped:
                self.mappings.append(
                    Mapping(
                        NO_EQUIVALENT,
                        child.path,
                        "state=STOPPED",
                        "a stopped queue takes no applications: not imported (its share stays unassigned)",
                    )
                )
            self._resolve(child, child.guaranteed, child.max)
        if mode == "absolute" and parent_guaranteed is not None:
            guaranteed = [c.guaranteed for c in queue.children if c.guaranteed]
            if guaranteed:
                added = guaranteed[0]
                for g in guaranteed[1:]:
                    added = added + g
                if not added.fits_in(parent_guaranteed):
                    self.fail(
                        f"{PREFIX}{queue.path}.queues",
                        self.props.get(f"{PREFIX}{queue.path}.queues"),
                        f"absolute capacities of the children of {queue.path} add up to {describe(added)}, more than its {describe(parent_guaranteed)}",
                    )

    def _max(self, child: YarnQueue, name: str, text: str | None, parent_max: Exact | None) -> Exact | None:
        if text is not None and _ABSOLUTE.match(text):
            amount = self._amount(name, text)
            if amount:
                self.mappings.append(Mapping(ONE_TO_ONE, child.path, f"maximum-capacity={text}", f"max {describe(amount)}"))
            return amount
        if text is None or text == "-1":
            return parent_max  # 100% of the parent's maximum
        value = decimal(text)
        if value is None or not 0 < value <= 100:
            self.fail(name, text, "must be a percentage (0-100], -1, or [memory=<MB>,vcores=<n>]")
            return None
        amount = parent_max.scale(value / 100) if parent_max else None
        result = f"max {describe(amount)}" if amount else "max: needs --total-cpu/--total-memory or --stack"
        self.mappings.append(
            Mapping(
                ONE_TO_ONE,
                child.path,
                f"maximum-capacity={text}",
                f"{float(value):g}% of {child.path.rsplit('.', 1)[0]}'s max: {result}",
            )
        )
        return amount

    def _container_limits(self, queue: YarnQueue) -> None:
        vcores = self.props.get(f"{PREFIX}{queue.path}.maximum-allocation-vcores")
        mb = self.props.get(f"{PREFIX}{queue.path}.maximum-allocation-mb")
        cpu = memory = None
        if vcores is not None:
            number = decimal(vcores)
            if number is None or number <= 0 or number.denominator != 1:
                self.fail(f"{PREFIX}{queue.path}.maximum-allocation-vcores", vcores, "must be a positive whole number")
            else:
                cpu = int(number)
                self.mappings.append(
                    Mapping(ONE_TO_ONE, queue.path, f"maximum-allocation-vcores={vcores}", f"limits.maxCpu {cpu}")
                )
        if mb is not None:
            number = decimal(mb)
            if number is None or number <= 0 or number.denominator != 1:
                self.fail(f"{PREFIX}{queue.path}.maximum-allocation-mb", mb, "must be a positive whole number of MB")
            else:
                memory = int(number)
                self.mappings.append(
                    Mapping(ONE_TO_ONE, queue.path, f"maximum-allocation-mb={mb}", f"limits.maxMemory {format_mib(memory)}")
                )
        queue.max_container = (cpu, memory)

    def _ordering(self, queue: YarnQueue) -> None:
        policy = self.props.get(f"{PREFIX}{queue.path}.ordering-policy")
        if policy is None:
            return
        if policy == "fifo":
            self.mappings.append(Mapping(ONE_TO_ONE, queue.path, "ordering-policy=fifo", "team queues are FIFO"))
        else:
            self.mappings.append(
                Mapping(APPROXIMATED, queue.path, f"ordering-policy={policy}", "team queues are FIFO (gang scheduling needs it)")
            )


def read_capacity_scheduler(path: Path, total: Exact | None) -> tuple[YarnQueue, list[Mapping]]:
    return _Reader(path, total).imported()
