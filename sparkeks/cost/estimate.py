"""What a planned stack costs: fixed monthly cost by component, and cost per node-hour of each Spark NodePool.

Works on the offline plan's resources (what the program would create) plus the stack config (the storage
sizes and spot assumptions the resources do not carry), priced from the pinned table in `prices.py`.
The result is plain data: the `cost` block of inventory.json, which `diff` and `dr init` compare.

An estimate never reads the clock: it is priced as of a day the commit holds (`priced_as_of`), and what
dates in the support facts change after that day is stated as dated months (`fixedMonthlyFrom`), so the
same commit and stack file always give the same estimate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sparkeks.config.model import StackConfig
from sparkeks.cost import prices
from sparkeks.instances import FAMILIES, SIZE_VCPUS
from sparkeks.version_policy import SUPPORT_FILE, kubernetes_standard_support_ends, support_checked

NODEPOOL = "kubernetes:karpenter.sh/v1:NodePool"
_SIZE_BY_VCPUS = {v: name for name, v in SIZE_VCPUS.items()}


def _money(value: float) -> float:
    return round(value + 0.0, 2)


def _rate(value: float) -> float:
    return round(value + 0.0, 6)


class _Lines:
    """Collects priced lines; a line whose unit price is missing is kept, marked unpriced."""

    def __init__(self, region: str):
        self.region = region
        self.items: list[dict[str, Any]] = []

    def add(self, component: str, item: str, quantity: float, price_key: str, *, hours: bool = True) -> None:
        price = prices.service_price(self.region, price_key)
        unit = price.unit if price else prices.LABELS[price_key]
        self._append(component, item, quantity, unit, price.usd if price else None, price.source if price else None, hours)

    def add_ec2(self, component: str, item: str, quantity: float, instance_type: str) -> None:
        usd = prices.ec2_on_demand(self.region, instance_type)
        self._append(component, item, quantity, f"{instance_type} instance-hour", usd, prices.ec2_source(self.region, instance_type), True)

    def _append(self, component: str, item: str, quantity: float, unit: str, usd: float | None, source: str | None, hours: bool) -> None:
        line: dict[str, Any] = {"component": component, "item": item, "quantity": quantity, "unit": unit}
        if usd is None:
            line["unpriced"] = f"no {unit} price for {self.region} in the price table"
            line["monthlyUsd"] = None
        else:
            line.update(unitUsd=usd, source=source, monthlyUsd=_money(quantity * usd * (prices.HOURS_PER_MONTH if hours else 1)))
        self.items.append(line)


def _of_type(resources: list[dict[str, Any]], type_: str) -> list[dict[str, Any]]:
    return [r for r in resources if r["type"] == type_]


def priced_as_of(region: str, support: Path = SUPPORT_FILE) -> date:
    """The day an estimate is priced as of: the newer of the day the region's prices were checked (its Price
    List table's fetch date, else the hand-pinned date) and the day the support facts were (support.yaml's
    `checked`). Both are in the commit, so every run prices alike; and the commit was made on or after both,
    so a date on or before this day had passed when the commit was made."""
    return max(prices.checked(region), support_checked(support))


@dataclass(frozen=True)
class _Cluster:
    version: str | None
    policy: str
    standard_support_ends: date | None

    @property
    def rate_changes_on(self) -> date | None:
        """The day its cluster-hour goes up: the end of standard support, when the policy keeps the minor."""
        return self.standard_support_ends if self.policy == "EXTENDED" else None


def _clusters(resources: list[dict[str, Any]]) -> list[_Cluster]:
    clusters = []
    for cluster in _of_type(resources, "aws:eks/cluster:Cluster"):
        inputs = cluster["inputs"]
        version = inputs.get("version")
        # The EKS API enables extended support on a cluster created without an upgrade policy.
        policy = (inputs.get("upgradePolicy") or {}).get("supportType") or "EXTENDED"
        clusters.append(_Cluster(version, policy, kubernetes_standard_support_ends(version) if version else None))
    return clusters


def _control_plane(cluster: _Cluster, lines: _Lines, as_of: date, on: date) -> None:
    """One cluster-hour per hour, on `on` (the day priced as of, or a later day a dated change starts): at the
    extended-support rate once the minor is past standard support on a cluster whose upgrade policy keeps it
    there (EXTENDED), else at the standard rate (a STANDARD cluster is upgraded by AWS when standard support
    ends, so it never pays the extended rate)."""
    ends, policy = cluster.standard_support_ends, cluster.policy
    cluster_is = f"EKS cluster, Kubernetes {cluster.version}"
    if ends is None:
        lines.add("control plane", f"{cluster_is}, standard support (no end of standard support in sparkeks/support.yaml)", 1, "eks.standard")
    elif policy != "EXTENDED":
        lines.add("control plane", f"{cluster_is}, standard support (upgrade policy {policy}: AWS upgrades the cluster when it ends, {ends})", 1, "eks.standard")
    elif ends <= as_of:
        lines.add("control plane", f"{cluster_is}, extended support (standard support ended {ends})", 1, "eks.extended")
    elif ends <= on:
        lines.add("control plane", f"{cluster_is}, extended support from {ends} (upgrade policy EXTENDED)", 1, "eks.extended")
    else:
        lines.add("control plane", f"{cluster_is}, standard support until {ends}, then extended support (upgrade policy EXTENDED)", 1, "eks.standard")


def _control_planes(clusters: list[_Cluster], region: str, as_of: date, on: date) -> list[dict[str, Any]]:
    lines = _Lines(region)
    for cluster in clusters:
        _control_plane(cluster, lines, as_of, on)
    return lines.items


def _month(lines: list[dict[str, Any]]) -> dict[str, Any]:
    """A month's fixed total, by component, and what in it is unpriced."""
    components: dict[str, float] = {}
    for line in lines:
        if line["monthlyUsd"] is not None:
            components[line["component"]] = _money(components.get(line["component"], 0) + line["monthlyUsd"])
    unpriced = [line["item"] for line in lines if line["monthlyUsd"] is None]
    return {"totalUsd": _money(sum(components.values())), "complete": not unpriced, "byComponent": components, "unpriced": unpriced}


def _dated_months(clusters: list[_Cluster], region: str, as_of: date, now: list[dict[str, Any]], rest: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The fixed month from each later day the support facts change a price: the lines that change, the
    lines they replace, and the month's totals."""
    months = []
    for day in sorted({d for c in clusters if (d := c.rate_changes_on) is not None and d > as_of}):
        then = _control_planes(clusters, region, as_of, day)
        new = [line for line in then if line not in now]
        old = [line for line in now if line not in then]
        priced = all(line["monthlyUsd"] is not None for line in new + old)
        change = _money(sum(line["monthlyUsd"] for line in new) - sum(line["monthlyUsd"] for line in old)) if priced else None
        months.append({"date": day.isoformat(), "lines": new, "replaces": [line["item"] for line in old], "changeUsd": change, **_month(then + rest)})
    return months


def _fixed(resources: list[dict[str, Any]], config: StackConfig, region: str) -> list[dict[str, Any]]:
    """The fixed lines that do not change with the day (all but the control plane's)."""
    lines = _Lines(region)
    for group in _of_type(resources, "aws:eks/nodeGroup:NodeGroup"):
        inputs = group["inputs"]
        desired = inputs["scalingConfig"]["desiredSize"]
        # A managed node group launches its first listed type while that type has capacity.
        first = inputs["instanceTypes"][0]
        lines.add_ec2("system nodes", f"node group {group['name']}: {desired} x {first} on-demand", desired, first)
    for template in _of_type(resources, "aws:ec2/launchTemplate:LaunchTemplate"):
        groups = [g for g in _of_type(resources, "aws:eks/nodeGroup:NodeGroup") if g["name"] == template["name"]]
        if not groups:
            continue
        desired = groups[0]["inputs"]["scalingConfig"]["desiredSize"]
        gib = sum(int(m["ebs"]["volumeSize"]) for m in template["inputs"].get("blockDeviceMappings") or [] if m.get("ebs"))
        lines.add("system nodes", f"root volumes: {desired} x {gib} GiB gp3", desired * gib, "ebs.gp3", hours=False)

    _platform_nodes(resources, config, lines)
    _celeborn_workers(config, lines)

    nats = _of_type(resources, "aws:ec2/natGateway:NatGateway")
    if nats:
        lines.add("NAT gateways", f"{len(nats)} NAT gateway(s)", len(nats), "nat.hour")

    interface = [e for e in _of_type(resources, "aws:ec2/vpcEndpoint:VpcEndpoint") if e["inputs"].get("vpcEndpointType") == "Interface"]
    if interface:
        azs = sum(len(e["inputs"].get("subnetIds") or []) for e in interface)
        services = ", ".join(sorted(e["inputs"]["serviceName"].split(".", 3)[-1] for e in interface))
        lines.add("interface endpoints", f"{len(interface)} endpoints x their zones ({services})", azs, "endpoint.hour")

    observability = config.observability
    if observability.enabled:
        lines.add("storage baselines", f"Prometheus volume: {observability.prometheus.storage_gib} GiB gp3", observability.prometheus.storage_gib, "ebs.gp3", hours=False)
        loki = observability.loki
        lines.add("storage baselines", f"Loki volumes: {loki.replicas} x {loki.volume_gib} GiB gp3", loki.replicas * loki.volume_gib, "ebs.gp3", hours=False)
    # History Servers start at zero pods and take their store volume only while they run: not a baseline.
    keys = _of_type(resources, "aws:kms/key:Key")
    if keys:
        lines.add("storage baselines", f"{len(keys)} KMS key(s)", len(keys), "kms.key", hours=False)
    return lines.items


def _platform_nodes(resources: list[dict[str, Any]], config: StackConfig, lines: _Lines) -> None:
    """The `platform` NodePool's always-on nodes: the cheapest of its types that holds the platform pods'
    requests (plus each node's DaemonSets), packed by total requests, so a lower bound."""
    from sparkeks.capacity.check import platform_pool_types
    from sparkeks.capacity.footprint import EVERY_NODE, platform_pods
    from sparkeks.nodes import allocatable
    from sparkeks.placement import PLATFORM_POOL

    types = platform_pool_types(resources)
    if not types:
        return
    pods = platform_pods(resources)
    cpu = sum(p.total_cpu_milli for p in pods if p.placement == PLATFORM_POOL and not p.transient)
    memory = sum(p.total_memory_mib for p in pods if p.placement == PLATFORM_POOL and not p.transient)
    per_node_cpu = sum(p.cpu_milli for p in pods if p.placement == EVERY_NODE)
    per_node_memory = sum(p.memory_mib for p in pods if p.placement == EVERY_NODE)
    fits = []
    for instance_type in types:
        node_cpu, node_memory, _ = allocatable(instance_type)
        room_cpu, room_memory = node_cpu - per_node_cpu, node_memory - per_node_memory
        if room_cpu <= 0 or room_memory <= 0:
            continue
        nodes = max(1, math.ceil(cpu / room_cpu), math.ceil(memory / room_memory))
        price = prices.ec2_on_demand(config.region, instance_type)
        fits.append((price is None, (price or 0) * nodes, nodes, instance_type))
    if not fits:
        return
    _, _, nodes, instance_type = min(fits)
    asked = f"{cpu / 1000:.2f} CPU, {memory / 1024:.1f} GiB requested"
    lines.add_ec2("platform nodes", f"platform NodePool: at least {nodes} x {instance_type} on-demand ({asked})", nodes, instance_type)
    gib = config.karpenter.node_volume_gib
    lines.add("platform nodes", f"root volumes: {nodes} x {gib} GiB gp3", nodes * gib, "ebs.gp3", hours=False)


def _celeborn_workers(config: StackConfig, lines: _Lines) -> None:
    """Celeborn's always-on workers, one per node of their pool, on the cheapest type that holds one; its
    masters are platform pods (priced with the platform nodes) and each has a gp3 Raft volume."""
    from sparkeks.nodes import spark_room

    if config.spark.shuffle.service != "celeborn":
        return
    celeborn = config.spark.shuffle.celeborn
    fits = [
        (price, instance_type)
        for instance_type in celeborn.pool.instance_types()
        if (price := prices.ec2_on_demand(config.region, instance_type)) is not None
        and (room := spark_room(instance_type, observability=config.observability.enabled))[0] >= celeborn.worker_cpu * 1000
        and room[1] >= celeborn.worker_memory_mib
    ]
    instance_type = min(fits)[1] if fits else celeborn.pool.instance_types()[0]
    workers = celeborn.workers
    lines.add_ec2("Celeborn", f"workers: {workers} x {instance_type} on-demand (one per node)", workers, instance_type)
    gib = config.karpenter.node_volume_gib
    lines.add("Celeborn", f"worker root volumes: {workers} x {gib} GiB gp3", workers * gib, "ebs.gp3", hours=False)
    lines.add("Celeborn", f"master Raft volumes: 3 x {celeborn.master_volume_gib} GiB gp3", 3 * celeborn.master_volume_gib, "ebs.gp3", hours=False)


def _usage_rates(resources: list[dict[str, Any]], region: str) -> list[dict[str, Any]]:
    """Prices of what grows with use; the estimate cannot know the volumes, so it states the rates."""
    wanted = []
    if _of_type(resources, "aws:ec2/natGateway:NatGateway"):
        wanted.append(("NAT data processed", "nat.gb"))
    if any(e["inputs"].get("vpcEndpointType") == "Interface" for e in _of_type(resources, "aws:ec2/vpcEndpoint:VpcEndpoint")):
        wanted.append(("interface endpoint data processed", "endpoint.gb"))
    if _of_type(resources, "aws:s3/bucket:Bucket"):
        wanted += [("S3 Standard storage (event logs, Loki chunks)", "s3.standard"), ("S3 writes", "s3.put"), ("S3 reads", "s3.get")]
    if _of_type(resources, "aws:cloudwatch/logGroup:LogGroup"):
        # EKS bills its control-plane logs as standard CloudWatch Logs ingestion and storage (EKS user guide,
        # "Send control plane logs to CloudWatch Logs"), not at the vended-log tiers other services' logs get.
        wanted += [
            ("EKS control-plane logs ingested (standard CloudWatch Logs ingestion, not vended logs)", "logs.ingest"),
            ("EKS control-plane logs stored", "logs.store"),
        ]
    if _of_type(resources, "aws:kms/key:Key"):
        wanted.append(("KMS requests", "kms.requests"))
    if _of_type(resources, "aws:sqs/queue:Queue"):
        wanted.append(("SQS requests (Karpenter interruption queue)", "sqs.requests"))
    rates = []
    for item, key in wanted:
        price = prices.service_price(region, key)
        if price is None:
            rates.append({"item": item, "unpriced": prices.unpriced(region, prices.LABELS[key])})
        else:
            rates.append({"item": item, "usd": price.usd, "unit": price.unit, "source": price.source})
    return rates


def _requirement(spec: dict[str, Any], key: str) -> list[str]:
    for requirement in spec.get("requirements") or []:
        if requirement.get("key") == key and requirement.get("operator") == "In":
            return list(requirement.get("values") or [])
    return []


def nodepool_types(nodepool: dict[str, Any]) -> list[str]:
    """Instance types a NodePool may launch, from its family and vCPU requirements."""
    spec = nodepool["spec"]["template"]["spec"]
    families = _requirement(spec, "karpenter.k8s.aws/instance-family")
    cpus = [int(c) for c in _requirement(spec, "karpenter.k8s.aws/instance-cpu")]
    return [t for f in families if f in FAMILIES for t in FAMILIES[f].instance_types(cpus)]


def root_volume_hour(config: StackConfig) -> float | None:
    """gp3 root volume of one Spark node, per node-hour."""
    gp3 = prices.service_price(config.region, "ebs.gp3")
    return _rate(config.karpenter.node_volume_gib * gp3.usd / prices.HOURS_PER_MONTH) if gp3 else None


def node_hour(config: StackConfig, instance_type: str, capacity: str) -> float | None:
    """One Spark node for an hour: EC2 (spot at the assumed discount) plus its root volume."""
    on_demand = prices.ec2_on_demand(config.region, instance_type)
    volume = root_volume_hour(config)
    if on_demand is None or volume is None:
        return None
    factor = 1.0 if capacity == "on-demand" else config.cost.spot_factor(instance_type.split(".")[0])
    return _rate(on_demand * factor + volume)


def _pools(resources: list[dict[str, Any]], config: StackConfig, region: str) -> list[dict[str, Any]]:
    volume_hour = root_volume_hour(config)
    pools = []
    from sparkeks.placement import PLATFORM_POOL

    for resource in _of_type(resources, NODEPOOL):
        nodepool = resource["inputs"]
        if nodepool["metadata"]["name"] == PLATFORM_POOL:
            continue  # priced as fixed cost (platform nodes)
        spec = nodepool["spec"]["template"]["spec"]
        capacity_types = _requirement(spec, "karpenter.sh/capacity-type") or ["on-demand"]
        limit_cpu = (nodepool["spec"].get("limits") or {}).get("cpu")
        for capacity in capacity_types:
            types = []
            for instance_type in nodepool_types(nodepool):
                family, size = instance_type.split(".")
                on_demand = prices.ec2_on_demand(region, instance_type)
                row: dict[str, Any] = {"type": instance_type, "vcpus": SIZE_VCPUS[size]}
                if on_demand is None:
                    row["unpriced"] = f"no on-demand price for {instance_type} in {region}"
                else:
                    ec2 = on_demand if capacity == "on-demand" else on_demand * config.cost.spot_factor(family)
                    row.update(onDemandUsdPerHour=on_demand, ec2UsdPerHour=_rate(ec2))
                    if volume_hour is not None:
                        row["usdPerNodeHour"] = _rate(ec2 + volume_hour)
                types.append(row)
            priced = [t for t in types if "usdPerNodeHour" in t]
            per_vcpu = [t["usdPerNodeHour"] / t["vcpus"] for t in priced]
            pool: dict[str, Any] = {
                "nodePool": nodepool["metadata"]["name"],
                "capacityType": capacity,
                "architectures": _requirement(spec, "kubernetes.io/arch"),
                "limitCpu": int(limit_cpu) if limit_cpu is not None else None,
                "rootVolumeUsdPerNodeHour": volume_hour,
                "instanceTypes": types,
            }
            if per_vcpu:
                pool["usdPerVcpuHour"] = {"min": _rate(min(per_vcpu)), "max": _rate(max(per_vcpu))}
                if pool["limitCpu"] is not None:
                    # The most the pool can cost in an hour: every vCPU of its limit on its priciest type per vCPU.
                    pool["ceilingUsdPerHour"] = _money(pool["limitCpu"] * max(per_vcpu))
            pools.append(pool)
    return pools


def estimate(resources: list[dict[str, Any]], config: StackConfig, as_of: date | None = None) -> dict[str, Any]:
    """The `cost` block of a plan, priced as of `as_of` (by default `priced_as_of`: a day the commit holds,
    never the day it runs), with the fixed month from each later day a support date changes a price."""
    region = config.region
    as_of = as_of or priced_as_of(region)
    clusters = _clusters(resources)
    control_planes = _control_planes(clusters, region, as_of, as_of)
    rest = _fixed(resources, config, region)
    fixed = control_planes + rest
    month = _month(fixed)
    spot_assumption = {"default": config.cost.default_spot_discount, **{f: d for f, d in sorted(config.cost.spot_discount.items())}}
    return {
        "region": region,
        "currency": "USD",
        "pricesChecked": prices.checked(region).isoformat(),
        "asOf": as_of.isoformat(),
        "hoursPerMonth": prices.HOURS_PER_MONTH,
        "spotDiscountAssumed": spot_assumption,
        "fixedMonthly": {
            "totalUsd": month["totalUsd"],
            "complete": month["complete"],
            "byComponent": month["byComponent"],
            "lines": fixed,
            "unpriced": month["unpriced"],
        },
        "fixedMonthlyFrom": _dated_months(clusters, region, as_of, control_planes, rest),
        "usageRates": _usage_rates(resources, region),
        "pools": _pools(resources, config, region),
    }
