"""History Server: read-only access, the paths Spark writes are the paths it reads, pinned jars, zero-downtime upgrades."""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
import subprocess
from types import MappingProxyType

import pytest

from components.history_server.manifests import CLEANER_GRACE_DAYS, fetch_jars_script
from sparkeks import versions
from sparkeks.jobs.render import render_spec_file
from sparkeks.plan.runner import PROJECT_ROOT
from sparkeks.versions import MavenJar

ACCOUNT = "111122223333"
BUCKET = f"spark-prod-spark-{ACCOUNT}"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"


def _server(view, team):
    return view.one(DEPLOYMENT, f"history-{team}")["inputs"]


def _container(deployment, name="history-server"):
    return next(c for c in deployment["spec"]["template"]["spec"]["containers"] if c["name"] == name)


def _properties(deployment):
    opts = next(e["value"] for e in _container(deployment)["env"] if e["name"] == "SPARK_HISTORY_OPTS")
    return dict(item[2:].split("=", 1) for item in opts.split())


def test_reader_role_lists_and_reads_the_event_logs_only(prod):
    policy = json.loads(prod.one("aws:iam/rolePolicy:RolePolicy", "history-read-event-logs")["inputs"]["policy"])
    assert policy["Statement"] == [
        {
            "Sid": "ListEventLogs",
            "Effect": "Allow",
            "Action": ["s3:GetBucketLocation", "s3:ListBucket"],
            "Resource": f"arn:aws:s3:::{BUCKET}",
            "Condition": {"StringLike": {"s3:prefix": ["event-logs", "event-logs/*"]}},
        },
        {
            "Sid": "ReadEventLogs",
            "Effect": "Allow",
            "Action": ["s3:GetObject"],
            "Resource": [f"arn:aws:s3:::{BUCKET}/event-logs", f"arn:aws:s3:::{BUCKET}/event-logs/*"],
        },
    ]
    association = prod.one("aws:eks/podIdentityAssociation:PodIdentityAssociation", "history-reader")["inputs"]
    assert (association["namespace"], association["serviceAccount"]) == ("spark-history", "spark-history")


@pytest.mark.parametrize(("example", "team"), [("spark-3.5-etl.yaml", "analytics"), ("spark-4.0-pyspark.yaml", "ml-platform")])
def test_the_server_reads_exactly_where_spark_writes(prod, example, team):
    written = render_spec_file(PROJECT_ROOT / "examples" / example, project_dir=PROJECT_ROOT).application["spec"]["sparkConf"]
    read = _properties(_server(prod, team))["spark.history.fs.logDirectory"]
    assert written["spark.eventLog.dir"] == read == f"s3a://{BUCKET}/event-logs/{team}/"
    # ... and the reader's policy covers that prefix, the writer's covers it for its own team only.
    policy = json.loads(prod.one("aws:iam/rolePolicy:RolePolicy", "history-read-event-logs")["inputs"]["policy"])
    readable = policy["Statement"][1]["Resource"]
    key = read.removeprefix(f"s3a://{BUCKET}/") + "spark-0001/events_1"
    assert any(re.fullmatch(r.split(":::")[1].replace("*", ".*"), f"{BUCKET}/{key}") for r in readable)


def test_server_runs_the_newest_spark_with_dataflint_and_s3a_jars(prod):
    deployment = _server(prod, "analytics")
    runtime = versions.SPARK_RUNTIMES[versions.NEWEST_SPARK]
    assert _container(deployment)["image"] == runtime.image
    script = next(c for c in deployment["spec"]["template"]["spec"]["initContainers"] if c["name"] == "fetch-jars")["command"][2]
    jars = [*versions.SPARK_S3A_JARS[versions.NEWEST_SPARK], versions.DATAFLINT_JARS[versions.DATAFLINT_VERSION][versions.NEWEST_SPARK]]
    for jar in jars:
        expected = f"fetch {jar.url} {jar.file_name} {jar.sha256}" if jar.sha256 else f"fetch_sha1 {jar.url} {jar.file_name}"
        assert expected in script
    env = {e["name"]: e["value"] for e in _container(deployment)["env"]}
    assert env["SPARK_DAEMON_CLASSPATH"] == "/opt/spark/extra-jars/*"
    props = _properties(deployment)
    assert props["spark.hadoop.fs.s3a.aws.credentials.provider"] == runtime.credentials_provider
    assert props["spark.dataflint.telemetry.enabled"] == "false"
    assert "spark.plugins" not in props  # Dataflint registers itself on the server


def test_jar_pins_match_their_spark_and_scala(prod):
    for line, runtime in versions.SPARK_RUNTIMES.items():
        hadoop_aws, sdk = versions.SPARK_S3A_JARS[line]
        assert hadoop_aws.coordinate == f"org.apache.hadoop:hadoop-aws:{runtime.hadoop}"
        assert sdk.coordinate in runtime.s3a and hadoop_aws.coordinate in runtime.s3a
        dataflint = versions.DATAFLINT_JARS[versions.DATAFLINT_VERSION][line]
        assert dataflint.coordinate == runtime.dataflint
        assert dataflint.coordinate.split(":")[1].endswith(f"_{runtime.scala}")
    for jar in [j for jars in versions.SPARK_S3A_JARS.values() for j in jars] + [
        j for builds in versions.DATAFLINT_JARS.values() for j in builds.values()
    ]:
        assert jar.sha256 is None or re.fullmatch(r"[0-9a-f]{64}", jar.sha256), jar.coordinate
        assert jar.url.startswith("https://repo1.maven.org/maven2/") and jar.url.endswith(f"/{jar.file_name}")


def test_server_sdk_supports_pod_identity():
    runtime = versions.SPARK_RUNTIMES[versions.NEWEST_SPARK]
    assert tuple(int(p) for p in runtime.sdk_version.split(".")) >= versions.POD_IDENTITY_MIN_SDK[runtime.sdk_major]


def _run_fetch(tmp_path, jars, served: bytes, published_sha1: str = ""):
    """Run the init container's script with a stand-in curl: every jar URL serves `served`, every
    `.sha1` URL serves `published_sha1` (as Maven Central would publish it)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "curl"
    payload = tmp_path / "payload"
    payload.write_bytes(served)
    sha1 = tmp_path / "sha1"
    sha1.write_text(published_sha1)
    fake.write_text(
        "#!/bin/sh\n"
        'for last; do :; done\n'
        'while [ "$1" != "-o" ]; do shift; done\n'
        f'case "$last" in *.sha1) cp {sha1} "$2" ;; *) cp {payload} "$2" ;; esac\n'
    )
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    jars_dir = tmp_path / "jars"
    jars_dir.mkdir()
    script = fetch_jars_script(jars).replace("cd /jars", f"cd {jars_dir}")
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"}
    return subprocess.run(["sh", "-c", script], capture_output=True, text=True, env=env), jars_dir


def test_fetch_script_accepts_a_jar_with_the_pinned_checksum(tmp_path):
    content = b"jar bytes"
    jar = MavenJar("io.example:thing:1.0", hashlib.sha256(content).hexdigest())
    result, jars_dir = _run_fetch(tmp_path, [jar], content)
    assert result.returncode == 0, result.stderr
    assert (jars_dir / "thing-1.0.jar").read_bytes() == content


def test_fetch_script_refuses_a_jar_with_another_checksum(tmp_path):
    jar = MavenJar("io.example:thing:1.0", hashlib.sha256(b"expected").hexdigest())
    result, _ = _run_fetch(tmp_path, [jar], b"tampered")
    assert result.returncode != 0


def test_fetch_script_checks_unpinned_jars_against_maven_centrals_sha1(tmp_path):
    content = b"jar bytes"
    jar = MavenJar("io.example:thing:1.0")
    result, jars_dir = _run_fetch(tmp_path, [jar], content, hashlib.sha1(content).hexdigest())
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in jars_dir.iterdir()) == ["thing-1.0.jar"]
    tampered = tmp_path / "again"
    tampered.mkdir()
    result, _ = _run_fetch(tampered, [jar], b"tampered", hashlib.sha1(content).hexdigest())
    assert result.returncode != 0


def test_probes_on_the_rest_api_and_memory_reserved(prod):
    container = _container(_server(prod, "analytics"))
    assert container["readinessProbe"]["httpGet"]["path"] == "/api/v1/applications?limit=1"
    assert container["livenessProbe"]["httpGet"]["path"] == "/api/v1/version"
    assert container["startupProbe"]["httpGet"]["path"] == "/api/v1/version"
    resources = container["resources"]
    assert resources["requests"]["memory"] == resources["limits"]["memory"] == "3Gi"  # 2g heap + 1g
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["runAsNonRoot"] is True


def test_rolling_update_never_drops_below_the_running_servers(prod):
    deployment = _server(prod, "analytics")
    assert deployment["spec"]["strategy"] == {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}}
    assert deployment["spec"]["replicas"] == 2
    pdb = prod.one("kubernetes:policy/v1:PodDisruptionBudget", "history-analytics")["inputs"]
    assert pdb["spec"]["maxUnavailable"] == 1
    assert pdb["spec"]["selector"] == deployment["spec"]["selector"]


def test_servers_run_on_on_demand_system_nodes_with_a_local_store(prod):
    pod = _server(prod, "analytics")["spec"]["template"]["spec"]
    assert pod["nodeSelector"] == {"spark-on-eks.io/pool": "system"}
    [store] = [v for v in pod["volumes"] if v["name"] == "store"]
    claim = store["ephemeral"]["volumeClaimTemplate"]["spec"]
    assert claim["storageClassName"] == "gp3" and claim["resources"]["requests"]["storage"] == "20Gi"
    props = _properties(_server(prod, "analytics"))
    assert props["spark.history.store.path"] == "/var/spark-history/store"
    assert props["spark.history.store.hybridStore.enabled"] == "true"


def test_cleaner_trails_the_lifecycle_rule(prod):
    props = _properties(_server(prod, "analytics"))
    rules = {r["id"]: r for r in prod.one("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "spark-storage-lifecycle")["inputs"]["rules"]}
    lifecycle_days = rules["expire-event-logs"]["expiration"]["days"]
    assert props["spark.history.fs.cleaner.enabled"] == "true"
    assert props["spark.history.fs.cleaner.maxAge"] == f"{lifecycle_days + CLEANER_GRACE_DAYS}d"


def test_service_is_cluster_internal_unless_asked(prod, plan_variant):
    service = prod.one("kubernetes:core/v1:Service", "history-analytics")["inputs"]
    assert service["spec"]["type"] == "ClusterIP" and service["spec"]["ports"][0]["port"] == 18080
    view = plan_variant("prod", historyServer={"internalLoadBalancer": True})
    lb = view.one("kubernetes:core/v1:Service", "history-analytics")["inputs"]
    assert lb["spec"]["type"] == "LoadBalancer"
    assert lb["metadata"]["annotations"]["service.beta.kubernetes.io/aws-load-balancer-internal"] == "true"


def _changed(before, after):
    a = {f"{r['type']}::{r['name']}": r for r in before.plan.resources}
    b = {f"{r['type']}::{r['name']}": r for r in after.plan.resources}
    assert a.keys() == b.keys()
    return sorted(ref for ref in a if a[ref]["inputs"] != b[ref]["inputs"] or a[ref]["options"] != b[ref]["options"])


def test_a_dataflint_upgrade_changes_only_the_server_deployments(plan_variant, monkeypatch):
    before = plan_variant("prod")
    builds = {line: MavenJar(jar.coordinate.replace("0.9.8", "0.9.9"), "a" * 64) for line, jar in versions.DATAFLINT_JARS["0.9.8"].items()}
    monkeypatch.setattr(versions, "DATAFLINT_JARS", MappingProxyType({**versions.DATAFLINT_JARS, "0.9.9": MappingProxyType(builds)}))
    after = plan_variant("prod", historyServer={"dataflintVersion": "0.9.9"})
    assert _changed(before, after) == [f"{DEPLOYMENT}::history-analytics", f"{DEPLOYMENT}::history-ml-platform"]


def test_a_spark_upgrade_changes_only_the_server_deployments(plan_variant):
    before = plan_variant("prod", historyServer={"sparkLine": "3.5"})
    after = plan_variant("prod", historyServer={"sparkLine": "4.0"})
    assert _changed(before, after) == [f"{DEPLOYMENT}::history-analytics", f"{DEPLOYMENT}::history-ml-platform"]
