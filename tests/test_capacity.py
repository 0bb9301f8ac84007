"""Platform capacity: every platform container states requests, every replicated service has a PDB and
zone spread, the system node group holds its pods or the plan refuses it, and History Servers do not grow
with the number of teams."""

from __future__ import annotations

import pytest

from components.helm import merge_values
from sparkeks.capacity.charts import CHART_PODS, NOT_RENDERED, value_at
from sparkeks.capacity.check import SYSTEM_HEADROOM, capacity_problems, system_fit
from sparkeks.capacity.footprint import EVERY_NODE, chart_pod_set, platform_pods
from sparkeks.conformance import chart_defaults
from sparkeks.nodes import allocatable
from sparkeks.plan.runner import PlanError, run_plan
from sparkeks.plan.writer import HELM_RELEASE, summary_of
from tests.conftest import make_project, schemas_dir, stack_config, with_overrides

# Helm release -> (schemas folder, prefix of a subchart's values inside the release's values).
CHART_FOLDERS = {
    "karpenter": [("karpenter", "")],
    "spark-operator": [("spark-operator", "")],
    "yunikorn": [("yunikorn", "")],
    "kube-prometheus-stack": [("kube-prometheus-stack", ""), ("grafana", "grafana.")],
    "loki": [("loki-community", "")],
    "fluent-bit": [("fluent-bit", "")],
    "opencost": [("opencost", "")],
    "celeborn": [("celeborn", "")],
}
# The only container the charts give no resources setting to: the Spark Operator's CRD upgrade hook Job.
NO_RESOURCES_SETTING = {"spark-operator/crd-upgrade-hook": ("upgrade-crd",)}


def _releases(view):
    return {r["inputs"]["name"]: r["inputs"]["values"] for r in view.of_type(HELM_RELEASE) if r["inputs"]["name"] != "karpenter-crd"}


def _resources_paths(values, prefix=""):
    if not isinstance(values, dict):
        return []
    found = []
    for key, value in values.items():
        path = f"{prefix}{key}"
        if key == "resources":
            found.append(path)
        found += _resources_paths(value, f"{path}.")
    return found


@pytest.fixture(scope="module")
def yunikorn(tmp_path_factory):
    project = make_project(tmp_path_factory.mktemp("yunikorn"), {"prod": with_overrides(stack_config("prod"), spark={"batchScheduler": "yunikorn"})})
    from tests.conftest import PlanView

    return PlanView(run_plan("prod", project))


def test_the_catalog_covers_every_resources_key_of_every_pinned_chart(prod, yunikorn, celeborn):
    """Each chart's own values file is the list of its containers: every `resources` key there is a
    container of the catalog or belongs to pods our merged values switch off."""
    releases = {**_releases(prod), **_releases(yunikorn), **_releases(celeborn)}
    assert set(releases) == set(CHART_FOLDERS)
    for release, folders in CHART_FOLDERS.items():
        covered = {path for pods in CHART_PODS if pods.release == release for path in pods.containers}
        switched_off = {path: (switch, value) for path, switch, value in NOT_RENDERED.get(release, ())}
        merged = chart_defaults(schemas_dir(), folders[0][0])
        for folder, prefix in folders[1:]:
            merged = merge_values(merged, {prefix.rstrip("."): merge_values(chart_defaults(schemas_dir(), folder), merged.get(prefix.rstrip("."), {}))})
        merged = merge_values(merged, releases[release])
        for folder, prefix in folders:
            for path in _resources_paths(chart_defaults(schemas_dir(), folder), prefix):
                if path in covered:
                    continue
                assert path in switched_off, f"{release}: {path} is neither a catalog container nor switched off"
                switch, value = switched_off[path]
                assert value_at(merged, switch) == value, (release, path, switch)
        # And nothing in the catalog points at a key the chart does not have (subcharts' keys aside).
        chart_paths = {p for folder, prefix in folders for p in _resources_paths(chart_defaults(schemas_dir(), folder), prefix)}
        subcharts = ("kube-state-metrics.", "prometheus-node-exporter.")
        assert {p for p in covered if not p.startswith(subcharts)} <= chart_paths, release


@pytest.mark.parametrize("stack", ["dev", "prod", "yunikorn"])
def test_every_platform_container_states_cpu_and_memory_requests(stack, request):
    view = request.getfixturevalue(stack)
    pods = platform_pods(view.plan.resources)
    sources = {p.source for p in pods}
    assert {"karpenter/karpenter", "kube-prometheus-stack/prometheus", "loki/loki", "kube-system/coredns"} <= sources
    missing = {p.source: p.containers_without_requests for p in pods if p.containers_without_requests}
    # EKS add-on DaemonSets run with their upstream requests (some state none); everything the platform
    # configures states both.
    addon_daemonsets = {"kube-system/aws-node", "kube-system/kube-proxy", "kube-system/eks-pod-identity-agent", "kube-system/ebs-csi-node"}
    assert {k: v for k, v in missing.items() if k not in addon_daemonsets} == NO_RESOURCES_SETTING


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_replica_count_is_stated_not_left_to_a_chart_default(stack, request):
    releases = _releases(request.getfixturevalue(stack))
    for pods in CHART_PODS:
        if pods.release in releases and isinstance(pods.replicas, str):
            if pods.enabled and value_at(releases[pods.release], pods.enabled, True) is False:
                continue
            assert isinstance(value_at(releases[pods.release], pods.replicas), int), (pods.release, pods.name)


def _memory(resources):
    return resources["requests"]["memory"], resources["limits"]["memory"]


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_stateful_platform_pods_reserve_their_memory_and_are_never_consolidated_without_a_pdb(stack, request):
    view = request.getfixturevalue(stack)
    releases = _releases(view)
    stateful = [p for p in CHART_PODS if p.stateful and p.release in releases]
    assert {p.name for p in stateful} == {"prometheus", "alertmanager", "loki"}
    for pods in stateful:
        values = releases[pods.release]
        main = value_at(values, pods.containers[0])
        request_memory, limit_memory = _memory(main)
        assert request_memory == limit_memory, pods.name
        replicas = pods.replicas if isinstance(pods.replicas, int) else value_at(values, pods.replicas)
        budget = value_at(values, pods.disruption_budget, {}) if pods.disruption_budget else {}
        protected_by_budget = replicas > 1 and budget.get("enabled", True) and budget.get("maxUnavailable") == 1
        pinned = value_at(values, pods.pod_annotations, {}).get("karpenter.sh/do-not-disrupt") == "true"
        assert protected_by_budget or pinned, (stack, pods.name)
        assert protected_by_budget != pinned, "a lone replica is pinned, replicas are covered by their PDB"


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_replicated_platform_service_has_a_pdb_and_zone_spread(stack, request):
    view = request.getfixturevalue(stack)
    releases = _releases(view)
    replicated = []
    for pods in CHART_PODS:
        if pods.release not in releases or pods.placement is None or pods.transient:
            continue
        values = releases[pods.release]
        pod_set = chart_pod_set(pods, values)
        if pod_set is None or pod_set.replicas < 2:
            continue
        replicated.append(pods.name)
        defaults = chart_defaults(schemas_dir(), CHART_FOLDERS[pods.release][0][0])
        merged = merge_values(defaults, values)
        budget = value_at(merged, pods.disruption_budget)
        assert budget.get("enable", budget.get("enabled", True)) is not False, pods.name
        assert budget.get("minAvailable") == 1 or budget.get("maxUnavailable") == 1, pods.name
        [spread] = value_at(merged, pods.spread)
        assert spread["topologyKey"] == "topology.kubernetes.io/zone" and spread["maxSkew"] == 1, pods.name
    expected = {"karpenter", "controller", "webhook", "loki-gateway"} | ({"loki"} if stack == "prod" else set())
    assert set(replicated) == expected
    # History Servers (our own Deployments) carry both too.
    for deployment in view.of_type("kubernetes:apps/v1:Deployment"):
        template = deployment["inputs"]["spec"]["template"]
        [spread] = template["spec"]["topologySpreadConstraints"]
        assert spread["topologyKey"] == "topology.kubernetes.io/zone"
        pdb = view.one("kubernetes:policy/v1:PodDisruptionBudget", deployment["name"])["inputs"]["spec"]
        assert pdb["maxUnavailable"] == 1 and pdb["selector"] == deployment["inputs"]["spec"]["selector"]


def test_only_karpenter_coredns_and_the_ebs_controller_use_the_system_nodes(prod):
    on_system = {p.source: p.replicas for p in platform_pods(prod.plan.resources) if p.placement == "system"}
    assert on_system == {"karpenter/karpenter": 2, "kube-system/coredns": 2, "kube-system/ebs-csi-controller": 2}


def test_everything_else_runs_on_the_platform_pool_or_every_node(prod):
    placements = {p.source: p.placement for p in platform_pods(prod.plan.resources)}
    assert {s for s, where in placements.items() if where == EVERY_NODE} == {
        "kube-system/aws-node",
        "kube-system/kube-proxy",
        "kube-system/eks-pod-identity-agent",
        "kube-system/ebs-csi-node",
        "kube-prometheus-stack/node-exporter",
        "fluent-bit/fluent-bit",
    }
    assert set(placements.values()) == {"system", "platform", EVERY_NODE}


def test_system_group_figures_are_the_requests_against_karpenters_allocatable(prod):
    fit = system_fit(prod.plan.resources)
    cpu, memory, pods = allocatable("m7i.large")
    assert (fit.instance_type, fit.group.desired_size) == ("m7i.large", 3)
    assert fit.available_cpu == pytest.approx(3 * cpu * (1 - SYSTEM_HEADROOM))
    assert fit.available_memory == pytest.approx(3 * memory * (1 - SYSTEM_HEADROOM))
    # Karpenter 2 x 500m, CoreDNS 2 x 100m, EBS CSI controller 2 x 5 x 10m; on each of 3 nodes the
    # add-on DaemonSets (aws-node 50m, kube-proxy 100m, ebs-csi-node 30m), node-exporter 20m, Fluent Bit 50m.
    assert fit.requested_cpu == 2 * 500 + 2 * 100 + 2 * 50 + 3 * (50 + 100 + 30 + 20 + 50)
    assert fit.requested_memory == pytest.approx(2 * 1024 + 2 * 128 + 2 * 200 + 3 * (104 + 32 + 64))
    assert fit.fits
    assert capacity_problems(prod.plan.resources, "stacks/Pulumi.prod.yaml", "spark-on-eks") == []


def test_a_system_group_too_small_for_its_pods_is_refused_with_one_line(tmp_path):
    config = with_overrides(stack_config("dev"), cluster={**stack_config("dev")["spark-on-eks:cluster"], "systemNodeGroup": {"instanceTypes": ["m7i.large"], "minSize": 1, "desiredSize": 1, "maxSize": 3}})
    project = make_project(tmp_path / "project", {"dev": config})
    with pytest.raises(PlanError) as err:
        run_plan("dev", project)
    assert err.value.exit_code == 2
    assert err.value.lines == [
        "stacks/Pulumi.dev.yaml: spark-on-eks:cluster.systemNodeGroup: the system node group (1 x m7i.large) cannot hold its pods:"
        " requested 1.55 CPU, 2.8 GiB, 12 pods; available 1.54 CPU, 5.4 GiB, 29 pods"
        " (80% of Karpenter's allocatable figures for m7i.large x 1 node); raise desiredSize or choose larger instanceTypes"
    ]


def test_a_platform_pod_larger_than_any_platform_node_is_refused(tmp_path):
    config = with_overrides(
        stack_config("prod"), observability={"prometheus": {"retention": "30d", "storageGib": 200, "memory": "64Gi"}}
    )
    project = make_project(tmp_path / "project", {"prod": config})
    with pytest.raises(PlanError) as err:
        run_plan("prod", project)
    [line] = err.value.lines
    assert line.startswith(
        "stacks/Pulumi.prod.yaml: spark-on-eks:karpenter.platform.instanceCpus: kube-prometheus-stack/prometheus requests 0.52 CPU, 64.1 GiB per pod,"
        " more than the largest platform node offers ("
    )


def test_platform_pool_limits_below_what_platform_services_request_are_refused(tmp_path):
    config = with_overrides(stack_config("prod"), karpenter={**stack_config("prod")["spark-on-eks:karpenter"], "platform": {"limits": {"cpu": 4, "memory": "16Gi"}}})
    project = make_project(tmp_path / "project", {"prod": config})
    with pytest.raises(PlanError) as err:
        run_plan("prod", project)
    # Steady platform pods (3.63 CPU, 19.0 GiB with OpenCost and YuniKorn's three) plus the History Servers' quota
    # (2.6 CPU, 15.6 GiB: five 3 GiB servers, each with its 128 MiB, 20m login).
    assert err.value.lines == [
        "stacks/Pulumi.prod.yaml: spark-on-eks:karpenter.platform.limits: platform services request 6.23 CPU, 34.6 GiB"
        " (History Servers at their quota), more than the platform pool's limits (4 CPU, 16Gi); raise them"
    ]


def test_summary_shows_the_platform_footprint(prod):
    summary = summary_of(prod.plan)
    assert "## Platform footprint" in summary
    assert "| system | 6 | 1.30 CPU | 2.6 GiB |" in summary
    assert "History Servers: 2 teams, 0 pods running at plan time; at most 5 pods, 15.6 GiB and 2.60 CPU together" in summary


def test_summary_before_the_platform_image_exists_says_so(monkeypatch, tmp_path):
    from sparkeks import images
    from tests.conftest import PROJECT_ROOT

    monkeypatch.setenv(images.PINS_ENV, str(PROJECT_ROOT / "images" / "pins.json"))
    summary = summary_of(run_plan("dev"))
    assert "History Servers: no server planned yet (they wait for the platform image); at most 5 pods, 10.0 GiB and 2.50 CPU together" in summary


# --- History Servers at 100 teams -----------------------------------------------------------------


def _teams(n):
    return [{"name": f"team-{i:03d}", "max": {"cpu": 64, "memory": "256Gi"}, "group": f"spark-team-{i:03d}"} for i in range(n)]


def _history_memory(view):
    """(memory of History Server pods running, the most they may take together) in MiB."""
    from sparkeks.quantities import memory_mib

    pods = [p for p in platform_pods(view.plan.resources) if p.source.startswith("spark-history/")]
    [quota] = [r for r in view.of_type("kubernetes:core/v1:ResourceQuota") if r["inputs"]["metadata"]["namespace"] == "spark-history"]
    return sum(p.total_memory_mib for p in pods), memory_mib(quota["inputs"]["spec"]["hard"]["limits.memory"]), len(pods)


def test_a_100_team_stack_plans_and_its_history_servers_stay_within_twice_a_2_team_stack(plan_variant):
    two = plan_variant("prod", teams=_teams(2))
    hundred = plan_variant("prod", teams=_teams(100))
    running_2, cap_2, servers_2 = _history_memory(two)
    running_100, cap_100, servers_100 = _history_memory(hundred)
    assert (servers_2, servers_100) == (2, 100)
    assert cap_100 <= 2 * cap_2 and cap_100 == 5 * (3072 + 128)  # a 3 GiB server and its login per pod
    assert running_100 <= 2 * max(running_2, 1)
    assert capacity_problems(hundred.plan.resources, "stacks/Pulumi.prod.yaml", "spark-on-eks") == []
    # Each team still reads only its own prefix: its server's log directory is its team's.
    deployment = hundred.one("kubernetes:apps/v1:Deployment", "history-team-042")["inputs"]
    opts = next(e["value"] for e in deployment["spec"]["template"]["spec"]["containers"][0]["env"] if e["name"] == "SPARK_HISTORY_OPTS")
    assert "-Dspark.history.fs.logDirectory=s3a://spark-prod-spark-111122223333/event-logs/team-042/" in opts
    # And a team's own role reaches its own event logs only.
    from tests.test_spark_platform import _resources, _team_policy

    arns = [a for a in _resources(_team_policy(hundred, "team-042")) if "/event-logs" in a]
    assert arns and all(a.split("/event-logs/")[1].startswith("team-042") for a in arns)
