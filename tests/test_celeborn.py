"""Celeborn remote shuffle: the stack option, the release and its capacity, the jobs that opt in, and the
refusals. The Celeborn client with a local master and worker is not on PyPI and needs the Celeborn
distribution, so no local run here: the configuration is what is tested."""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import io
import json
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import yaml

from components.spark.teams import MONITORING_LABEL, TEAM_LABEL
from sparkeks import versions
from sparkeks.capacity.check import capacity_problems
from sparkeks.capacity.footprint import platform_pods
from sparkeks.config.loader import ConfigError, load_stack_config
from sparkeks.jobs.render import JobError, render_spec_file
from sparkeks.netpol import Pod, may_connect
from sparkeks.plan.writer import HELM_RELEASE, summary_of
from sparkeks.versions import MavenJar
from tests.conftest import CELEBORN_SHUFFLE, PROJECT_ROOT, make_project, stack_config, with_overrides

NODE_POOL = "kubernetes:karpenter.sh/v1:NodePool"
ENDPOINTS = ",".join(f"celeborn-master-{i}.celeborn-master-svc.celeborn.svc.cluster.local:9097" for i in range(3))


def _values(view):
    return next(r for r in view.of_type(HELM_RELEASE) if r["inputs"]["name"] == "celeborn")["inputs"]


def _manifests(view, kind):
    return [r["inputs"] for r in view.plan.resources if r["type"].endswith(f":{kind}") and r["inputs"].get("metadata", {}).get("namespace") == "celeborn"]


# --- the shipped stacks stay without it


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_no_shipped_stack_runs_celeborn_by_default(stack, request):
    view = request.getfixturevalue(stack)
    # Only the dashboard ships everywhere (empty without the service).
    shipped = [r["name"] for r in view.plan.resources if "celeborn" in r["name"]]
    assert shipped == ["observability-dashboard-celeborn-shuffle"]


# --- the release


def test_the_release_is_the_pinned_chart_in_its_own_namespace(celeborn):
    release = _values(celeborn)
    assert (release["chart"], release["version"], release["namespace"]) == ("build/charts/celeborn-0.7.0/celeborn", "0.1.0", "celeborn")
    values = release["values"]
    assert values["image"] == {"registry": "docker.io", "repository": "apache/celeborn", "tag": "0.7.0", "pullPolicy": "IfNotPresent"}
    # No Role for the default ServiceAccount, and the platform's monitors instead of the chart's 5s ones.
    assert (values["rbac"]["create"], values["serviceAccount"], values["podMonitor"]) == (False, {"create": True, "name": "celeborn"}, {"enable": False})


def test_masters_run_three_on_the_platform_pool_with_raft_on_gp3(celeborn):
    master = _values(celeborn)["values"]["master"]
    assert master["replicas"] == 3
    assert master["nodeSelector"] == {"spark-on-eks.io/pool": "platform"}
    assert master["tolerations"] == [{"key": "spark-on-eks.io/pool", "operator": "Equal", "value": "platform", "effect": "NoSchedule"}]
    assert master["resources"] == {"requests": {"cpu": "500m", "memory": "3Gi"}, "limits": {"memory": "3Gi"}}
    assert master["volumes"] == []
    assert master["volumeClaimTemplates"] == [
        {
            "metadata": {"name": "celeborn-ratis"},
            "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": "gp3", "resources": {"requests": {"storage": "20Gi"}}},
        }
    ]
    # The chart's own volumeMounts put that volume at the Raft storage dir.
    assert _values(celeborn)["values"]["celeborn"]["celeborn.master.ha.ratis.raft.server.storage.dir"] == "/mnt/celeborn_ratis"
    assert {e["name"]: e["value"] for e in master["env"]} == {"CELEBORN_MASTER_MEMORY": "2g", "CELEBORN_NO_DAEMONIZE": "true", "TZ": "UTC"}


def test_workers_fill_their_own_nvme_nodes_and_are_never_disrupted_by_karpenter(celeborn):
    worker = _values(celeborn)["values"]["worker"]
    assert worker["replicas"] == 3
    assert worker["nodeSelector"] == {"spark-on-eks.io/pool": "celeborn-worker"}
    assert worker["tolerations"] == [{"key": "spark-on-eks.io/pool", "operator": "Equal", "value": "celeborn-worker", "effect": "NoSchedule"}]
    # Stateful: memory request = limit (4g heap + 24g off-heap + 2g JVM).
    assert worker["resources"] == {"requests": {"cpu": "12", "memory": "30Gi"}, "limits": {"memory": "30Gi"}}
    assert worker["annotations"] == {"karpenter.sh/do-not-disrupt": "true"}
    assert worker["terminationGracePeriodSeconds"] == 660
    assert worker["volumes"] == [{"name": "shuffle", "emptyDir": {}}]
    assert worker["volumeMounts"] == [{"name": "shuffle", "mountPath": "/mnt/celeborn"}]
    conf = _values(celeborn)["values"]["celeborn"]
    assert conf["celeborn.worker.storage.dirs"] == "/mnt/celeborn/shuffle:disktype=SSD"
    assert conf["celeborn.worker.graceful.shutdown.recoverPath"] == "/mnt/celeborn/recover"
    assert int(conf["celeborn.worker.graceful.shutdown.timeout"].rstrip("s")) < worker["terminationGracePeriodSeconds"]
    assert {k: conf[k] for k in conf if k.startswith("celeborn.worker.") and k.endswith(".port")} == {
        "celeborn.worker.rpc.port": 9091,
        "celeborn.worker.fetch.port": 9092,
        "celeborn.worker.push.port": 9093,
        "celeborn.worker.replicate.port": 9094,
        "celeborn.worker.internal.port": 9095,
        "celeborn.worker.http.port": 9096,
    }


@pytest.mark.parametrize("role", ["master", "worker"])
def test_one_pod_per_node_and_zones_preferred_apart(celeborn, role):
    labels = {"app.kubernetes.io/name": "celeborn", "app.kubernetes.io/instance": "celeborn", "app.kubernetes.io/role": role}
    anti = _values(celeborn)["values"][role]["affinity"]["podAntiAffinity"]
    assert anti["requiredDuringSchedulingIgnoredDuringExecution"] == [{"labelSelector": {"matchLabels": labels}, "topologyKey": "kubernetes.io/hostname"}]
    assert anti["preferredDuringSchedulingIgnoredDuringExecution"] == [
        {"weight": 100, "podAffinityTerm": {"labelSelector": {"matchLabels": labels}, "topologyKey": "topology.kubernetes.io/zone"}}
    ]
    [pdb] = [m for m in _manifests(celeborn, "PodDisruptionBudget") if m["metadata"]["name"] == f"celeborn-{role}"]
    assert pdb["spec"] == {"maxUnavailable": 1, "selector": {"matchLabels": labels}}


# Celeborn settings the platform writes, each in Celeborn 0.7.0's configuration reference
# (docs/configuration/{master,worker,client,ha,metrics,network}.md; io.retryWait as `celeborn.<module>.io.retryWait`).
DOCUMENTED_CELEBORN_KEYS = {
    "celeborn.master.ha.enabled",
    "celeborn.master.ha.ratis.raft.server.storage.dir",
    "celeborn.master.http.port",
    "celeborn.master.port",
    "celeborn.master.heartbeat.worker.timeout",
    "celeborn.master.heartbeat.application.timeout",
    "celeborn.worker.heartbeat.timeout",
    "celeborn.worker.http.port",
    "celeborn.worker.rpc.port",
    "celeborn.worker.fetch.port",
    "celeborn.worker.push.port",
    "celeborn.worker.replicate.port",
    "celeborn.worker.storage.dirs",
    "celeborn.worker.monitor.disk.enabled",
    "celeborn.worker.graceful.shutdown.enabled",
    "celeborn.worker.graceful.shutdown.timeout",
    "celeborn.worker.graceful.shutdown.checkSlotsFinished.timeout",
    "celeborn.worker.graceful.shutdown.partitionSorter.shutdownTimeout",
    "celeborn.worker.graceful.shutdown.recoverPath",
    "celeborn.client.push.stageEnd.timeout",
    "celeborn.metrics.enabled",
    "celeborn.metrics.prometheus.path",
    # The REST API's read-only mode (components/celeborn/rest_api.py); CelebornConf.scala:2643 and :3583 at v0.7.0.
    "celeborn.master.http.auth.supportedSchemes",
    "celeborn.worker.http.auth.supportedSchemes",
    # RPC authentication (components/celeborn/rpc_auth.py); CelebornConf.scala:6583, :6594, :6679 and :6711 at v0.7.0.
    "celeborn.auth.enabled",
    "celeborn.internal.port.enabled",
    "celeborn.master.ha.node.0.internal.port",
    "celeborn.master.ha.node.1.internal.port",
    "celeborn.master.ha.node.2.internal.port",
    "celeborn.worker.internal.port",
}


def test_celeborn_settings_are_documented_keys(celeborn):
    from sparkeks.conformance import chart_defaults
    from tests.conftest import schemas_dir

    conf = _values(celeborn)["values"]["celeborn"]
    chart_conf = chart_defaults(schemas_dir(), "celeborn")["celeborn"]
    assert set(conf) - set(chart_conf) - DOCUMENTED_CELEBORN_KEYS == set()


# --- the workers' nodes


def test_the_worker_pool_is_on_demand_nvme_and_only_consolidated_when_empty(celeborn):
    [pool] = [r["inputs"] for r in celeborn.of_type(NODE_POOL) if r["inputs"]["metadata"]["name"].startswith("celeborn-worker")]
    spec = pool["spec"]
    assert pool["metadata"]["name"] == "celeborn-worker"
    assert spec["disruption"] == {"consolidationPolicy": "WhenEmpty", "consolidateAfter": "10m", "budgets": [{"nodes": "1"}]}
    assert spec["limits"] == {"cpu": "128", "memory": "1024Gi"}
    template = spec["template"]["spec"]
    assert template["nodeClassRef"] == {"group": "karpenter.k8s.aws", "kind": "EC2NodeClass", "name": "nvme"}
    assert template["expireAfter"] == "Never"
    assert template["taints"] == [{"key": "spark-on-eks.io/pool", "value": "celeborn-worker", "effect": "NoSchedule"}]
    requirements = {r["key"]: r["values"] for r in template["requirements"]}
    assert requirements["karpenter.sh/capacity-type"] == ["on-demand"]
    assert requirements["karpenter.k8s.aws/instance-family"] == ["m6id", "r6id", "i4i"]
    assert requirements["karpenter.k8s.aws/instance-cpu"] == ["16"]
    assert requirements["topology.kubernetes.io/zone"] == ["us-east-1a", "us-east-1b", "us-east-1c"]
    [nvme] = [r["inputs"] for r in celeborn.of_type("kubernetes:karpenter.k8s.aws/v1:EC2NodeClass") if r["inputs"]["metadata"]["name"] == "nvme"]
    assert nvme["spec"]["instanceStorePolicy"] == "RAID0"


# --- monitoring and network


def test_prometheus_scrapes_masters_and_workers(celeborn):
    monitors = {m["metadata"]["name"]: m["spec"] for m in _manifests(celeborn, "PodMonitor")}
    assert set(monitors) == {"celeborn-master", "celeborn-worker"}
    for role in ("master", "worker"):
        spec = monitors[f"celeborn-{role}"]
        assert spec["selector"]["matchLabels"]["app.kubernetes.io/role"] == role
        assert spec["podMetricsEndpoints"] == [{"port": "metrics", "path": "/metrics/prometheus", "interval": "30s"}]


def celeborn_pod(role: str) -> Pod:
    """A Celeborn master or worker as the chart labels it."""
    return Pod("celeborn", {"app.kubernetes.io/name": "celeborn", "app.kubernetes.io/instance": "celeborn", "app.kubernetes.io/role": role})


def reach_under(view, ns_labels: dict | None = None):
    """may_connect(source, target, port) under the plan's NetworkPolicies; by default the namespaces are the
    team `analytics` and the monitoring namespace, labelled as the platform labels them."""
    policies = [r["inputs"] for r in view.of_type("kubernetes:networking.k8s.io/v1:NetworkPolicy")]
    labels = ns_labels or {"analytics": {TEAM_LABEL: "analytics"}, "monitoring": {MONITORING_LABEL: "true"}}
    return lambda source, target, port: may_connect(policies, labels, source, target, port)


def test_teams_reach_the_client_ports_only_and_prometheus_the_metrics(celeborn):
    reach = reach_under(celeborn)
    team = Pod("analytics", {"spark-role": "executor"})
    prometheus = Pod("monitoring", {"app.kubernetes.io/name": "prometheus"})
    grafana = Pod("monitoring", {"app.kubernetes.io/name": "grafana"})
    history = Pod("spark-history", {"app.kubernetes.io/name": "spark-history-server"})
    master, worker = celeborn_pod("master"), celeborn_pod("worker")

    assert reach(team, master, 9097) and not reach(team, master, 9098) and not reach(team, master, 9872)
    assert all(reach(team, worker, p) for p in (9091, 9092, 9093)) and not reach(team, worker, 9094) and not reach(team, worker, 9096)
    assert reach(prometheus, master, 9098) and reach(prometheus, worker, 9096) and not reach(grafana, worker, 9096)
    assert not reach(history, master, 9097) and not reach(history, worker, 9093)
    assert reach(worker, worker, 9094) and reach(worker, master, 9097) and reach(master, master, 9872) and reach(master, worker, 9091)


# --- capacity


def test_the_footprint_counts_the_masters_on_the_platform_pool_and_the_workers_on_theirs(celeborn, prod):
    pods = {p.source: p for p in platform_pods(celeborn.plan.resources)}
    master, worker = pods["celeborn/master"], pods["celeborn/worker"]
    assert (master.placement, master.replicas, master.cpu_milli, master.memory_mib, master.memory_limit_mib) == ("platform", 3, 500, 3072, 3072)
    assert (worker.placement, worker.replicas, worker.cpu_milli, worker.memory_mib) == ("celeborn-worker", 3, 12000, 30720)
    platform = {p.placement for p in platform_pods(prod.plan.resources)}
    assert "celeborn-worker" not in platform
    summary = summary_of(celeborn.plan)
    assert "| celeborn-worker | 3 | 36.00 CPU | 90.0 GiB |" in summary


def _with_platform_limits(resources, cpu, memory):
    changed = copy.deepcopy(resources)
    for r in changed:
        if r["type"] == NODE_POOL and r["inputs"]["metadata"]["name"] == "platform":
            r["inputs"]["spec"]["limits"] = {"cpu": cpu, "memory": memory}
    return changed


def test_the_platform_limits_check_counts_the_masters(celeborn, prod):
    def requested(view):
        [line] = capacity_problems(_with_platform_limits(view.plan.resources, "1", "1Gi"), "stacks/Pulumi.prod.yaml", "spark-on-eks")
        return line.split("platform services request ")[1].split(" (History Servers")[0]

    # Three masters: 1.5 CPU and 9 GiB more than the same stack without Celeborn.
    without, with_celeborn = requested(prod), requested(celeborn)
    cpu = lambda text: float(text.split(" CPU")[0])  # noqa: E731
    gib = lambda text: float(text.split(", ")[1].split(" GiB")[0])  # noqa: E731
    assert round(cpu(with_celeborn) - cpu(without), 2) == 1.5 and round(gib(with_celeborn) - gib(without), 1) == 9.0


# --- the stack config


def _load(spark: dict, teams: list | None = None) -> list[str]:
    raw = with_overrides(stack_config("dev"), spark=spark)
    raw.pop("spark-on-eks:grafanaAdminPassword", None)
    raw["spark-on-eks:observability"] = {"enabled": False}
    if teams is not None:
        raw["spark-on-eks:teams"] = teams
    with pytest.raises(ConfigError) as err:
        load_stack_config("dev", raw)
    return err.value.problems


def _team(**extra):
    return {"name": "analytics", "max": {"cpu": 64, "memory": "256Gi"}, **extra}


def test_a_team_default_of_celeborn_needs_the_service():
    assert _load({}, [_team(shuffle="celeborn")]) == [
        'stacks/Pulumi.dev.yaml: spark-on-eks:teams[0].shuffle: "celeborn": a team default of celeborn needs '
        "spark.shuffle.service: celeborn in this stack; allowed here: local"
    ]


def test_a_worker_larger_than_its_nodes_is_refused():
    [line] = _load({"shuffle": {"service": "celeborn", "celeborn": {"workerCpu": 16}}})
    assert line.startswith("stacks/Pulumi.dev.yaml: spark-on-eks:spark.shuffle.celeborn.workerCpu: 16: a worker (16 CPUs, 30 GiB")
    assert "does not fit m6id.4xlarge" in line


def test_workers_on_spot_or_without_nvme_are_refused():
    [spot] = _load({"shuffle": {"service": "celeborn", "celeborn": {"pool": {"capacityTypes": ["spot"]}}}})
    assert spot.endswith("Celeborn workers run on on-demand only: a reclaimed worker loses the shuffle data of every job on it")
    [disk] = _load({"shuffle": {"service": "celeborn", "celeborn": {"pool": {"instanceFamilies": ["m7i"]}}}})
    assert "m7i has no local NVMe instance store" in disk


def test_a_worker_pool_too_small_for_its_workers_is_refused():
    [line] = _load({"shuffle": {"service": "celeborn", "celeborn": {"workers": 8, "pool": {"limits": {"cpu": 64, "memory": "512Gi"}}}}})
    assert line.endswith("8 workers on nodes of at least 16 vCPUs, plus one replacement node, need 144 vCPUs, more than pool.limits.cpu (64)")


def test_an_unknown_shuffle_service_names_the_choices():
    assert _load({"shuffle": {"service": "uniffle"}}) == [
        "stacks/Pulumi.dev.yaml: spark-on-eks:spark.shuffle.service: \"uniffle\": must be one of 'none' or 'celeborn'"
    ]


# --- jobs


def _spec(tmp_path: Path, line: str = "4.1", **changes) -> Path:
    example = {"3.5": "spark-3.5-etl", "4.0": "spark-4.0-pyspark", "4.1": "spark-4.1-etl", "4.2": "spark-4.2-pyspark"}[line]
    data = yaml.safe_load((PROJECT_ROOT / "examples" / f"{example}.yaml").read_text())
    data.update(changes)
    path = tmp_path / f"job-{line}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def _conf(path: Path, project: Path) -> dict:
    return render_spec_file(path, project_dir=project, account_id="111122223333").application["spec"]


def _expected(replicate: bool = True) -> dict[str, str]:
    return {
        "spark.shuffle.manager": "org.apache.spark.shuffle.celeborn.SparkShuffleManager",
        "spark.celeborn.master.endpoints": ENDPOINTS,
        "spark.shuffle.service.enabled": "false",
        "spark.celeborn.client.push.replicate.enabled": "true" if replicate else "false",
        "spark.shuffle.sort.io.plugin.class": "org.apache.spark.shuffle.celeborn.CelebornShuffleDataIO",
        "spark.dynamicAllocation.shuffleTracking.enabled": "false",
        "spark.celeborn.client.spark.shuffle.fallback.policy": "NEVER",
        "spark.storage.decommission.shuffleBlocks.enabled": "false",
        "spark.sql.adaptive.localShuffleReader.enabled": "false",
        "spark.celeborn.client.fetch.maxRetriesForEachReplica": "5",
        "spark.celeborn.data.io.retryWait": "10s",
        "spark.celeborn.auth.enabled": "true",
    }


@pytest.mark.parametrize("line", ["3.5", "4.0", "4.1", "4.2"])
def test_a_celeborn_job_gets_the_client_settings_of_its_line(tmp_path, celeborn_project, line):
    spec = _conf(_spec(tmp_path, line, shuffle="celeborn"), celeborn_project)
    conf = spec["sparkConf"]
    assert {k: conf[k] for k in _expected()} == _expected()
    # What conflicts is gone: no fallback storage to copy shuffle files to, no tracking keeping executors.
    assert "spark.storage.decommission.fallbackStorage.path" not in conf
    assert "spark.storage.decommission.fallbackStorage.cleanUp" not in conf
    assert spec["dynamicAllocation"]["shuffleTrackingEnabled"] is False and spec["dynamicAllocation"]["enabled"] is True
    # Executors still leave gracefully and hand over cached blocks.
    assert (conf["spark.decommission.enabled"], conf["spark.storage.decommission.rddBlocks.enabled"]) == ("true", "true")


def test_the_client_jar_of_each_line_is_in_its_platform_image():
    assert {line: r.celeborn_client for line, r in versions.SPARK_RUNTIMES.items()} == {
        "3.5": "org.apache.celeborn:celeborn-client-spark-3-shaded_2.12:0.7.0",
        "4.0": "org.apache.celeborn:celeborn-client-spark-4-shaded_2.13:0.7.0",
        "4.1": "org.apache.celeborn:celeborn-client-spark-4-shaded_2.13:0.7.0",
        "4.2": "org.apache.celeborn:celeborn-client-spark-4-shaded_2.13:0.7.0",
    }
    for runtime in versions.SPARK_RUNTIMES.values():
        assert runtime.jars[-1] == runtime.celeborn_client
        assert runtime.scala in runtime.celeborn_client
    assert MavenJar(versions.SPARK_RUNTIMES["4.2"].celeborn_client).url == (
        "https://repo1.maven.org/maven2/org/apache/celeborn/celeborn-client-spark-4-shaded_2.13/0.7.0/celeborn-client-spark-4-shaded_2.13-0.7.0.jar"
    )


def test_a_local_job_keeps_decommissioning_with_s3_fallback(tmp_path, celeborn_project):
    spec = _conf(_spec(tmp_path), celeborn_project)
    conf = spec["sparkConf"]
    assert "spark.shuffle.manager" not in conf and "spark.celeborn.master.endpoints" not in conf
    assert conf["spark.storage.decommission.shuffleBlocks.enabled"] == "true"
    assert conf["spark.storage.decommission.fallbackStorage.path"].startswith("s3a://")
    assert spec["dynamicAllocation"]["shuffleTrackingEnabled"] is True


def test_a_team_default_of_celeborn_applies_unless_the_job_says_local(tmp_path):
    config = with_overrides(stack_config("prod"), spark=CELEBORN_SHUFFLE)
    config["spark-on-eks:teams"] = [dict(t, shuffle="celeborn") if t["name"] == "analytics" else t for t in config["spark-on-eks:teams"]]
    project = make_project(tmp_path / "project", {"prod": config})
    assert _conf(_spec(tmp_path), project)["sparkConf"]["spark.shuffle.manager"] == "org.apache.spark.shuffle.celeborn.SparkShuffleManager"
    assert "spark.shuffle.manager" not in _conf(_spec(tmp_path, shuffle="local"), project)["sparkConf"]


def test_replication_off_in_the_stack_reaches_the_jobs(tmp_path):
    config = with_overrides(stack_config("prod"), spark={"shuffle": {"service": "celeborn", "celeborn": {"replicate": False}}})
    project = make_project(tmp_path / "project", {"prod": config})
    assert _conf(_spec(tmp_path, shuffle="celeborn"), project)["sparkConf"]["spark.celeborn.client.push.replicate.enabled"] == "false"


def _problems(path: Path, project: Path = PROJECT_ROOT) -> list[str]:
    with pytest.raises(JobError) as err:
        render_spec_file(path, project_dir=project, account_id="111122223333")
    return err.value.problems


def test_celeborn_on_a_stack_without_it_is_refused_in_one_line(tmp_path):
    path = _spec(tmp_path, shuffle="celeborn")
    assert _problems(path) == [
        f"{path}: shuffle: \"celeborn\": stack prod runs no Celeborn (spark.shuffle.service is none in stacks/Pulumi.prod.yaml); allowed: local"
    ]
    result = subprocess.run([sys.executable, "-m", "sparkeks", "job", str(path)], capture_output=True, text=True, cwd=PROJECT_ROOT)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.strip().splitlines() == _problems(path)


def test_a_line_without_a_celeborn_client_is_refused(tmp_path, celeborn_project, monkeypatch):
    runtimes = dict(versions.SPARK_RUNTIMES)
    runtimes["3.5"] = dataclasses.replace(runtimes["3.5"], celeborn_client=None)
    monkeypatch.setattr("sparkeks.spark.celeborn.SPARK_RUNTIMES", runtimes)
    path = _spec(tmp_path, "3.5", shuffle="celeborn")
    assert _problems(path, celeborn_project) == [
        f"{path}: sparkVersion: \"3.5\": the platform's Celeborn client covers Spark 4.0, 4.1, 4.2; use one of those lines or shuffle: local"
    ]


def test_a_job_may_not_override_the_celeborn_settings(tmp_path, celeborn_project):
    path = _spec(tmp_path, shuffle="celeborn", sparkConf={"spark.celeborn.client.spark.shuffle.fallback.policy": "AUTO"})
    assert _problems(path, celeborn_project) == [
        f"{path}: sparkConf.spark.celeborn.client.spark.shuffle.fallback.policy: \"AUTO\": set by the platform for shuffle: celeborn"
    ]


# --- the chart fetch (no network: a local archive)


def _archive(chart_version: str = "0.1.0", app_version: str = "0.7.0") -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, text in {
            "apache-celeborn-0.7.0-source/charts/celeborn/Chart.yaml": f"apiVersion: v2\nname: celeborn\nversion: {chart_version}\nappVersion: {app_version}\n",
            "apache-celeborn-0.7.0-source/charts/celeborn/templates/configmap.yaml": "kind: ConfigMap\n",
            "apache-celeborn-0.7.0-source/README.md": "not the chart\n",
        }.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def test_the_chart_is_unpacked_only_from_an_archive_matching_its_published_sha512(tmp_path):
    from sparkeks.celeborn_chart import ChartError, published_sha512, unpack_chart

    archive = _archive()
    digest = hashlib.sha512(archive).hexdigest()
    assert published_sha512(f"{digest}  apache-celeborn-0.7.0-source.tgz\n", "apache-celeborn-0.7.0-source.tgz") == digest
    grouped = " ".join(digest[i : i + 8].upper() for i in range(0, 128, 8))
    assert published_sha512(f"apache-celeborn-0.7.0-source.tgz: {grouped}\n", "apache-celeborn-0.7.0-source.tgz") == digest
    target = unpack_chart(archive, digest, tmp_path / "charts" / "celeborn")
    assert sorted(str(p.relative_to(target)) for p in target.rglob("*") if p.is_file()) == ["Chart.yaml", "templates/configmap.yaml"]
    with pytest.raises(ChartError, match="does not match the published"):
        unpack_chart(archive, "0" * 128, tmp_path / "other")
    other = _archive(chart_version="0.2.0")
    with pytest.raises(ChartError, match=r"chart is 0.2.0 \(Celeborn 0.7.0\), the pin is 0.1.0 \(Celeborn 0.7.0\)"):
        unpack_chart(other, hashlib.sha512(other).hexdigest(), tmp_path / "other")
    assert not (tmp_path / "other").exists()


# --- cost


def test_the_plan_prices_the_always_on_workers_and_the_masters_volumes(celeborn, celeborn_project, prod):
    from sparkeks.cost.estimate import estimate
    from sparkeks.cost.prices import HOURS_PER_MONTH, ec2_on_demand
    from sparkeks.plan.runner import load_stack

    fixed = estimate(celeborn.plan.resources, load_stack("prod", celeborn_project))["fixedMonthly"]
    lines = [(line["item"], line["monthlyUsd"]) for line in fixed["lines"] if line["component"] == "Celeborn"]
    worker_hour = ec2_on_demand("us-east-1", "m6id.4xlarge")
    assert lines == [
        ("workers: 3 x m6id.4xlarge on-demand (one per node)", round(3 * worker_hour * HOURS_PER_MONTH, 2)),
        ("worker root volumes: 3 x 100 GiB gp3", 24.0),
        ("master Raft volumes: 3 x 20 GiB gp3", 4.8),
    ]
    without = estimate(prod.plan.resources, load_stack("prod"))["fixedMonthly"]
    assert "Celeborn" not in without["byComponent"]


def test_the_readme_shuffle_table_quotes_the_price_table(celeborn, celeborn_project):
    from sparkeks.cost.estimate import estimate, node_hour
    from sparkeks.cost.prices import ec2_on_demand
    from sparkeks.plan.runner import load_stack

    config = load_stack("prod", celeborn_project)
    readme = (PROJECT_ROOT / "README.md").read_text()
    table = readme.split("### Choosing a shuffle path", 1)[1].split("\n\n")[2]
    assert table.startswith("| path |")
    celeborn_total = estimate(celeborn.plan.resources, config)["fixedMonthly"]["byComponent"]["Celeborn"]
    for figure in (
        f"m7i.4xlarge ${node_hour(config, 'm7i.4xlarge', 'spot'):.3f} per node-hour",
        f"${node_hour(config, 'm7i.4xlarge', 'on-demand'):.3f} on-demand",
        f"m6id.4xlarge on-demand ${node_hour(config, 'm6id.4xlarge', 'on-demand'):.3f} per node-hour",
        f"(${ec2_on_demand('us-east-1', 'm6id.4xlarge'):.4f} per hour each)",
        f"${celeborn_total:,.2f} a month in `prod`'s plan",
    ):
        assert figure in table, figure


# --- DR


def test_a_dr_standby_keeps_room_for_its_workers(tmp_path):
    """A standby scales the Spark pools down (dr.capacityScale); Celeborn's workers are a fixed count the
    stack states, so their pool keeps room for them instead of shrinking below one node."""
    from sparkeks.dr import dr_init
    from sparkeks.plan.runner import load_stack, run_plan
    from tests.conftest import PlanView

    project = make_project(tmp_path / "project", {"prod": with_overrides(stack_config("prod"), spark=CELEBORN_SHUFFLE)})
    dr_init("prod", zones=["us-east-1d", "us-east-1e"], project_dir=project)
    config = load_stack("prod-dr", project)
    assert (config.spark.shuffle.service, config.dr.capacity_scale) == ("celeborn", 0.1)
    view = PlanView(run_plan("prod-dr", project))
    [pool] = [r["inputs"] for r in view.of_type(NODE_POOL) if r["inputs"]["metadata"]["name"] == "celeborn-worker"]
    assert pool["spec"]["limits"] == {"cpu": "128", "memory": "1024Gi"}
    assert _values(view)["values"]["worker"]["replicas"] == config.spark.shuffle.celeborn.workers


def test_pulumi_up_of_a_celeborn_stack_without_the_chart_stops_with_one_line(tmp_path):
    """Helm reads the chart during a deployment (the offline plan does not): `pulumi up` refuses before registering
    anything, naming the path in the project and the make target that unpacks it."""
    sys.path.insert(0, str(PROJECT_ROOT / "bench"))
    from up_run import run_up

    project = make_project(tmp_path / "project", {"prod": with_overrides(stack_config("prod"), spark=CELEBORN_SHUFFLE)})
    run = run_up(project, "prod")
    assert (run.exit_code, run.register_calls) == (1, 1)
    chart = f"{versions.CELEBORN_CHART_DIR}/Chart.yaml"
    assert run.engine["errors"] == [
        f"{chart}: not found in project dir {project.resolve()} "
        "(the pinned Celeborn chart: run `make celeborn-chart`, or `sparkeks celeborn-chart` in a project without the Makefile)"
    ]


def test_the_chart_command_unpacks_into_the_project_pulumi_up_reads(tmp_path, capsys):
    """`sparkeks celeborn-chart --project-dir` (what `make celeborn-chart` runs) writes where the deployment check
    and the release look: with it, pulumi up of the Celeborn stack goes past the check and deploys the release."""
    sys.path.insert(0, str(PROJECT_ROOT / "bench"))
    from up_run import run_up

    from sparkeks.cli import main

    project = make_project(tmp_path / "project", {"prod": with_overrides(stack_config("prod"), spark=CELEBORN_SHUFFLE)})
    archive = _archive()
    (tmp_path / "celeborn.tgz").write_bytes(archive)
    (tmp_path / "celeborn.tgz.sha512").write_text(f"{hashlib.sha512(archive).hexdigest()}  apache-celeborn-0.7.0-source.tgz\n")
    args = ["--archive", str(tmp_path / "celeborn.tgz"), "--sha512", str(tmp_path / "celeborn.tgz.sha512")]
    assert main(["celeborn-chart", "--project-dir", str(project), *args]) == 0, capsys.readouterr().err
    assert capsys.readouterr().out == f"Celeborn chart 0.1.0 (Celeborn 0.7.0) in {project.resolve() / versions.CELEBORN_CHART_DIR}\n"
    assert (project / versions.CELEBORN_CHART_DIR / "Chart.yaml").is_file()
    record = tmp_path / "registered.json"
    run = run_up(project, "prod", record=record)
    assert run.exit_code == 0, run.failure()
    [release] = [r for r in json.loads(record.read_text()) if r["type"] == HELM_RELEASE and r["inputs"]["name"] == "celeborn"]
    assert release["inputs"]["chart"] == versions.CELEBORN_CHART_DIR


def test_the_celeborn_release_reads_the_chart_from_the_project(celeborn, tmp_path):
    """A path relative to the project, where Pulumi runs the program and its providers: the same in every
    checkout's state and plan, whichever directory the command started in."""
    assert _values(celeborn)["chart"] == versions.CELEBORN_CHART_DIR
    assert not Path(versions.CELEBORN_CHART_DIR).is_absolute()
