"""History Server: read-only access, the paths Spark writes are the paths it reads, the platform image by
digest (nothing downloaded at start), zero-downtime upgrades."""

from __future__ import annotations

import json
import re

import pytest

from components.history_server.manifests import CLEANER_GRACE_DAYS
from sparkeks import images, versions
from sparkeks.jobs.render import render_spec_file
from tests.conftest import PROJECT_ROOT

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


@pytest.mark.parametrize("team", ["analytics", "ml-platform"])
def test_each_server_has_its_own_role_reading_only_its_teams_event_logs(prod, team):
    policy = json.loads(prod.one("aws:iam/rolePolicy:RolePolicy", f"history-{team}-read-event-logs")["inputs"]["policy"])
    assert policy["Statement"] == [
        {"Sid": "LocateBuckets", "Effect": "Allow", "Action": ["s3:GetBucketLocation"], "Resource": [f"arn:aws:s3:::{BUCKET}"]},
        {
            "Sid": "ListEventLogs",
            "Effect": "Allow",
            "Action": ["s3:ListBucket"],
            "Resource": f"arn:aws:s3:::{BUCKET}",
            "Condition": {"StringLike": {"s3:prefix": [f"event-logs/{team}", f"event-logs/{team}/*"]}},
        },
        {
            "Sid": "ReadEventLogs",
            "Effect": "Allow",
            "Action": ["s3:GetObject"],
            "Resource": [f"arn:aws:s3:::{BUCKET}/event-logs/{team}", f"arn:aws:s3:::{BUCKET}/event-logs/{team}/*"],
        },
    ]
    association = prod.one("aws:eks/podIdentityAssociation:PodIdentityAssociation", f"history-{team}-reader")["inputs"]
    assert (association["namespace"], association["serviceAccount"]) == ("spark-history", f"spark-history-server-{team}")
    assert _server(prod, team)["spec"]["template"]["spec"]["serviceAccountName"] == f"spark-history-server-{team}"


@pytest.mark.parametrize(("example", "team"), [("spark-4.1-etl.yaml", "analytics"), ("spark-4.2-pyspark.yaml", "ml-platform")])
def test_the_server_reads_exactly_where_spark_writes(prod, example, team):
    written = render_spec_file(PROJECT_ROOT / "examples" / example, project_dir=PROJECT_ROOT).application["spec"]["sparkConf"]
    read = _properties(_server(prod, team))["spark.history.fs.logDirectory"]
    assert written["spark.eventLog.dir"] == read == f"s3a://{BUCKET}/event-logs/{team}/"
    # ... and the reader's policy covers that prefix, the writer's covers it for its own team only.
    policy = json.loads(prod.one("aws:iam/rolePolicy:RolePolicy", f"history-{team}-read-event-logs")["inputs"]["policy"])
    readable = policy["Statement"][2]["Resource"]
    key = read.removeprefix(f"s3a://{BUCKET}/") + "spark-0001/events_1"
    assert any(re.fullmatch(r.split(":::")[1].replace("*", ".*"), f"{BUCKET}/{key}") for r in readable)


def test_server_runs_the_newest_lines_platform_image_by_digest_with_nothing_to_download(prod):
    deployment = _server(prod, "analytics")
    runtime = versions.SPARK_RUNTIMES[versions.NEWEST_SPARK]
    digest = images.load_pins()[versions.NEWEST_SPARK].image_digest
    pod = deployment["spec"]["template"]["spec"]
    # The server, and its login in front (prod turns it on).
    assert [c["image"] for c in pod["containers"]] == [
        f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/spark-prod/spark-{versions.NEWEST_SPARK}@{digest}",
        f"quay.io/oauth2-proxy/oauth2-proxy:v{versions.OAUTH2_PROXY_VERSION}",
    ]
    # S3A, the SDK and Dataflint are in the image's own jars directory: no init container, no extra classpath.
    assert "initContainers" not in pod
    assert {v["name"] for v in pod["volumes"]} == {"tmp", "store"}
    env = {e["name"]: e["value"] for e in _container(deployment)["env"]}
    assert set(env) == {"SPARK_DAEMON_MEMORY", "SPARK_HISTORY_OPTS", "HOME", "SPARK_LOCAL_IP"}
    props = _properties(deployment)
    assert props["spark.hadoop.fs.s3a.aws.credentials.provider"] == runtime.credentials_provider
    assert props["spark.dataflint.telemetry.enabled"] == "false"
    assert "spark.plugins" not in props  # Dataflint registers itself on the server


def test_server_waits_for_an_image_that_was_never_built(tmp_path, monkeypatch, plan_variant):
    unbuilt = {line: images.LinePins(jars=dict(p.jars), base_digest=p.base_digest) for line, p in images.load_pins().items()}
    path = tmp_path / "pins.json"
    images.write_pins(unbuilt, path)
    monkeypatch.setenv(images.PINS_ENV, str(path))
    view = plan_variant("prod")
    assert view.of_type(DEPLOYMENT) == [] or all(not r["name"].startswith("history-") for r in view.of_type(DEPLOYMENT))
    assert view.plan.outputs["historyServers"] == {}
    # The identity and namespace are there, so the servers appear with the next deploy after the build.
    assert view.one("aws:eks/podIdentityAssociation:PodIdentityAssociation", "history-analytics-reader")


def test_server_sdk_supports_pod_identity():
    runtime = versions.SPARK_RUNTIMES[versions.NEWEST_SPARK]
    assert tuple(int(p) for p in runtime.sdk_version.split(".")) >= versions.POD_IDENTITY_MIN_SDK[runtime.sdk_major]


def test_probes_on_the_rest_api_and_memory_reserved(dev):
    """Without a login (dev) the kubelet probes Spark's REST API directly; test_history_login covers prod."""
    container = _container(_server(dev, "analytics"))
    assert container["readinessProbe"]["httpGet"]["path"] == "/api/v1/applications?limit=1"
    assert container["livenessProbe"]["httpGet"]["path"] == "/api/v1/version"
    assert container["startupProbe"]["httpGet"]["path"] == "/api/v1/version"
    resources = container["resources"]
    assert resources["requests"]["memory"] == resources["limits"]["memory"] == "2Gi"  # dev: 1g heap + 1g
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["runAsNonRoot"] is True


def test_rolling_update_never_drops_below_the_running_servers(prod, plan_variant):
    deployment = _server(prod, "analytics")
    assert deployment["spec"]["strategy"] == {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}}
    always_on = _server(plan_variant("prod", historyServer={"onDemand": False}), "analytics")
    assert always_on["spec"]["replicas"] == 2
    pdb = prod.one("kubernetes:policy/v1:PodDisruptionBudget", "history-analytics")["inputs"]
    assert pdb["spec"]["maxUnavailable"] == 1
    assert pdb["spec"]["selector"] == deployment["spec"]["selector"]


def test_servers_run_on_the_platform_pool_with_a_local_store(prod):
    pod = _server(prod, "analytics")["spec"]["template"]["spec"]
    assert pod["nodeSelector"] == {"spark-on-eks.io/pool": "platform"}
    assert pod["tolerations"] == [{"key": "spark-on-eks.io/pool", "operator": "Equal", "value": "platform", "effect": "NoSchedule"}]
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
    view = plan_variant("prod", historyServer={"internalLoadBalancer": True, "access": {"enabled": False}})
    lb = view.one("kubernetes:core/v1:Service", "history-analytics")["inputs"]
    assert lb["spec"]["type"] == "LoadBalancer"
    assert lb["metadata"]["annotations"]["service.beta.kubernetes.io/aws-load-balancer-internal"] == "true"


def _changed(before, after):
    a = {f"{r['type']}::{r['name']}": r for r in before.plan.resources}
    b = {f"{r['type']}::{r['name']}": r for r in after.plan.resources}
    assert a.keys() == b.keys()
    return sorted(ref for ref in a if a[ref]["inputs"] != b[ref]["inputs"] or a[ref]["options"] != b[ref]["options"])


def test_a_new_image_build_changes_only_the_server_deployments(plan_variant, tmp_path, monkeypatch):
    """A Dataflint or S3A upgrade arrives as a rebuilt image: a new digest rolls the servers, nothing else."""
    before = plan_variant("prod")
    pins = dict(images.load_pins())
    line = versions.NEWEST_SPARK
    pins[line] = images.LinePins(pins[line].base_digest, dict(pins[line].jars), "sha256:" + "ab" * 32, "cd" * 32)
    path = tmp_path / "pins.json"
    images.write_pins(pins, path)
    monkeypatch.setenv(images.PINS_ENV, str(path))
    after = plan_variant("prod")
    assert _changed(before, after) == [f"{DEPLOYMENT}::history-analytics", f"{DEPLOYMENT}::history-ml-platform"]


def test_a_spark_upgrade_changes_only_the_server_deployments(plan_variant):
    before = plan_variant("prod", historyServer={"sparkLine": "4.1"})
    after = plan_variant("prod", historyServer={"sparkLine": "4.2"})
    assert _changed(before, after) == [f"{DEPLOYMENT}::history-analytics", f"{DEPLOYMENT}::history-ml-platform"]


def test_servers_never_get_a_kubernetes_api_token(prod):
    """The servers read S3 (through Pod Identity's own token) and never call the Kubernetes API."""
    pod = _server(prod, "analytics")["spec"]["template"]["spec"]
    assert pod["automountServiceAccountToken"] is False
    account = prod.one("kubernetes:core/v1:ServiceAccount", "history-analytics-service-account")["inputs"]
    assert account["automountServiceAccountToken"] is False
