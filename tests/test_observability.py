"""Observability: the three releases, secrets kept out of values, Loki per environment, log labels,
Spark monitors, and rules and dashboards that parse and use metrics the components really expose."""

from __future__ import annotations

import json
import re
from pathlib import Path

import promql_parser
import pytest

from components.observability.dashboards import dashboard_files
from components.observability.metrics import KNOWN
from components.observability.values import LOKI_LABELS, LOKI_UID, PROMETHEUS_UID, TEMPO_UID
from sparkeks.plan.runner import SECRET_PLACEHOLDER
from sparkeks.plan.writer import HELM_RELEASE, write_plan

ACCOUNT = "111122223333"


def _release(view, name):
    return next(r for r in view.of_type(HELM_RELEASE) if r["inputs"]["name"] == name)


def _values(view, name):
    return _release(view, name)["inputs"]["values"]


def test_three_releases_pinned(prod):
    expected = {
        "kube-prometheus-stack": ("88.5.3", "https://prometheus-community.github.io/helm-charts"),
        "loki": ("18.11.0", "https://grafana-community.github.io/helm-charts"),
        "fluent-bit": ("0.58.1", "https://fluent.github.io/helm-charts"),
    }
    for name, (version, repo) in expected.items():
        inputs = _release(prod, name)["inputs"]
        assert (inputs["version"], inputs["repositoryOpts"]["repo"], inputs["namespace"]) == (version, repo, "monitoring")


def test_prometheus_picks_up_the_platforms_monitors(prod):
    spec = _values(prod, "kube-prometheus-stack")["prometheus"]["prometheusSpec"]
    for key in ("podMonitorSelectorNilUsesHelmValues", "serviceMonitorSelectorNilUsesHelmValues", "ruleSelectorNilUsesHelmValues"):
        assert spec[key] is False
    assert spec["retention"] == "30d"
    claim = spec["storageSpec"]["volumeClaimTemplate"]["spec"]
    assert claim["storageClassName"] == "gp3" and claim["resources"]["requests"]["storage"] == "200Gi"
    assert spec["nodeSelector"] == {"spark-on-eks.io/pool": "platform"}
    assert spec["tolerations"] == [{"key": "spark-on-eks.io/pool", "operator": "Equal", "value": "platform", "effect": "NoSchedule"}]


def test_grafana_and_alertmanager_secrets_never_reach_values_or_the_plan(prod, tmp_path):
    values = _values(prod, "kube-prometheus-stack")
    assert values["grafana"]["admin"]["existingSecret"] == "grafana-admin"
    assert "adminPassword" not in values["grafana"]
    assert values["alertmanager"]["alertmanagerSpec"]["configSecret"] == "alertmanager-platform"
    assert "config" not in values["alertmanager"]
    secret = prod.one("kubernetes:core/v1:Secret", "observability-grafana-admin")["inputs"]
    assert secret["stringData"] == "[secret]" or secret["stringData"]["admin-password"] == "[secret]"
    write_plan(prod.plan, tmp_path)
    everything = "".join(p.read_text() for p in tmp_path.rglob("*") if p.is_file())
    assert SECRET_PLACEHOLDER not in everything


def test_slack_webhook_is_a_secret_and_routes_alerts(plan_variant, tmp_path):
    view = plan_variant(
        "dev",
        observability={"slackChannel": "#data-alerts"},
        alertmanagerSlackWebhookUrl={"secure": "v1:c2xhY2s="},
    )
    alertmanager = view.one("kubernetes:core/v1:Secret", "observability-alertmanager-config")["inputs"]
    assert "hooks.slack" not in json.dumps(alertmanager)
    write_plan(view.plan, tmp_path)
    assert SECRET_PLACEHOLDER not in "".join(p.read_text() for p in tmp_path.rglob("*") if p.is_file())


def test_alertmanager_config_routes_to_slack_only_when_configured():
    from components.observability.alerting import alertmanager_config

    quiet = alertmanager_config(slack_channel=None, slack_webhook_url=None)
    assert quiet["route"]["receiver"] == "null" and [r["name"] for r in quiet["receivers"]] == ["null"]
    loud = alertmanager_config(slack_channel="#a", slack_webhook_url="https://hooks.example/x")
    assert loud["route"]["receiver"] == "slack"
    assert loud["receivers"][1]["slack_configs"][0] == {**loud["receivers"][1]["slack_configs"][0], "api_url": "https://hooks.example/x", "channel": "#a"}


def test_dev_loki_is_one_binary_on_a_volume(dev):
    loki = _values(dev, "loki")
    assert loki["deploymentMode"] == "Monolithic"
    assert loki["singleBinary"]["replicas"] == 1
    assert loki["singleBinary"]["persistence"] == {
        "enabled": True,
        "storageClass": "gp3",
        "size": "50Gi",
        # dev is disposable: the volume goes with the release, no orphaned EBS volume after a destroy.
        "enableStatefulSetAutoDeletePVC": True,
        "whenDeleted": "Delete",
    }
    spec = _values(dev, "kube-prometheus-stack")["prometheus"]["prometheusSpec"]
    assert spec["persistentVolumeClaimRetentionPolicy"] == {"whenDeleted": "Delete", "whenScaled": "Retain"}
    assert loki["loki"]["storage"] == {"type": "filesystem"}
    assert loki["loki"]["schemaConfig"]["configs"][0]["object_store"] == "filesystem"
    assert dev.of_type("aws:eks/podIdentityAssociation:PodIdentityAssociation") and not [
        r for r in dev.of_type("aws:s3/bucket:Bucket") if "loki" in r["inputs"]["bucket"]
    ]


def test_prod_loki_keeps_logs_in_a_protected_bucket_with_its_own_role(prod):
    bucket = f"spark-prod-loki-{ACCOUNT}"
    loki = _values(prod, "loki")
    assert loki["loki"]["storage"] == {"type": "s3", "bucketNames": {"chunks": bucket, "ruler": bucket, "admin": bucket}, "s3": {"region": "us-east-1"}}
    assert loki["loki"]["schemaConfig"]["configs"] == [
        {"from": "2026-01-01", "store": "tsdb", "object_store": "s3", "schema": "v13", "index": {"prefix": "loki_index_", "period": "24h"}}
    ]
    assert loki["singleBinary"]["replicas"] == 3 and loki["loki"]["commonConfig"]["replication_factor"] == 3
    assert loki["singleBinary"]["persistence"]["whenDeleted"] == "Retain"
    spec = _values(prod, "kube-prometheus-stack")["prometheus"]["prometheusSpec"]
    assert spec["persistentVolumeClaimRetentionPolicy"]["whenDeleted"] == "Retain"
    assert loki["loki"]["limits_config"]["retention_period"] == "720h"
    assert loki["loki"]["compactor"]["retention_enabled"] is True
    resource = prod.one("aws:s3/bucket:Bucket", "observability-loki-bucket")
    assert resource["inputs"]["bucket"] == bucket and resource["options"]["protect"] is True
    assert resource["inputs"]["forceDestroy"] is False
    block = prod.one("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "observability-loki-public-access")["inputs"]
    assert all(block[k] is True for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"))
    policy = json.loads(prod.one("aws:iam/rolePolicy:RolePolicy", "observability-loki-bucket")["inputs"]["policy"])
    assert policy["Statement"] == [
        {"Sid": "LocateBuckets", "Effect": "Allow", "Action": ["s3:GetBucketLocation"], "Resource": [f"arn:aws:s3:::{bucket}"]},
        {"Sid": "ListLokiBucket", "Effect": "Allow", "Action": ["s3:ListBucket"], "Resource": f"arn:aws:s3:::{bucket}"},
        {"Sid": "ReadWriteLokiObjects", "Effect": "Allow", "Action": ["s3:DeleteObject", "s3:GetObject", "s3:PutObject"], "Resource": [f"arn:aws:s3:::{bucket}/*"]},
    ]
    association = prod.one("aws:eks/podIdentityAssociation:PodIdentityAssociation", "observability-loki")["inputs"]
    assert (association["namespace"], association["serviceAccount"]) == ("monitoring", "loki")


def test_logs_carry_namespace_pod_container_and_spark_labels(prod):
    values = _values(prod, "fluent-bit")
    assert values["kind"] == "DaemonSet" and values["tolerations"] == [{"operator": "Exists"}]
    labels_line = next(line for line in values["config"]["outputs"].splitlines() if line.strip().startswith("Labels "))
    labels = dict(pair.split("=", 1) for pair in labels_line.strip()[len("Labels ") :].split(", "))
    assert labels["namespace"] == "$kubernetes['namespace_name']"
    assert labels["pod"] == "$kubernetes['pod_name']" and labels["container"] == "$kubernetes['container_name']"
    assert labels["spark_app_id"] == "$kubernetes['labels']['spark-app-selector']"
    assert labels["spark_role"] == "$kubernetes['labels']['spark-role']"
    assert "Host loki-gateway.monitoring.svc.cluster.local" in values["config"]["outputs"]


def test_spark_pod_monitors_scrape_drivers_in_the_team_namespaces(prod):
    monitors = {
        r["inputs"]["metadata"]["name"]: r
        for r in prod.of_type("kubernetes:monitoring.coreos.com/v1:PodMonitor")
        if r["inputs"]["metadata"]["namespace"] == "monitoring"  # spark-history has the logins' monitor
    }
    assert set(monitors) == {"spark-drivers", "spark-executors"}
    paths = {}
    for name, monitor in monitors.items():
        spec = monitor["inputs"]["spec"]
        assert spec["namespaceSelector"] == {"matchNames": ["analytics", "ml-platform"]}
        assert spec["selector"] == {"matchLabels": {"spark-role": "driver"}}
        [endpoint] = spec["podMetricsEndpoints"]
        assert endpoint["port"] == "spark-ui"
        paths[name] = endpoint["path"]
        assert "kubernetes:helm.sh/v3:Release::observability-kube-prometheus-stack" in monitor["options"]["dependsOn"]
    assert paths == {"spark-drivers": "/metrics/driver/prometheus/", "spark-executors": "/metrics/executors/prometheus"}


def test_karpenter_and_operator_metrics_are_scraped_once_the_crds_exist(prod):
    # Karpenter comes before monitoring (platform services run on its NodePool), so the monitoring
    # release itself carries Karpenter's ServiceMonitor, selecting the chart's metrics Service.
    [monitor] = _values(prod, "kube-prometheus-stack")["prometheus"]["additionalServiceMonitors"]
    assert monitor == {
        "name": "karpenter",
        "namespaceSelector": {"matchNames": ["karpenter"]},
        "selector": {"matchLabels": {"app.kubernetes.io/name": "karpenter", "app.kubernetes.io/instance": "karpenter"}},
        "endpoints": [{"port": "http-metrics", "path": "/metrics"}],
    }
    assert "kubernetes:helm.sh/v3:Release::observability-kube-prometheus-stack" not in _release(prod, "karpenter")["options"]["dependsOn"]
    assert _values(prod, "spark-operator")["prometheus"]["podMonitor"]["create"] is True
    assert "kubernetes:helm.sh/v3:Release::observability-kube-prometheus-stack" in _release(prod, "spark-operator")["options"]["dependsOn"]


def test_monitoring_namespace_is_the_one_team_policies_let_in(prod):
    ns = next(r for r in prod.of_type("kubernetes:core/v1:Namespace") if r["inputs"]["metadata"]["name"] == "monitoring")
    assert ns["inputs"]["metadata"]["labels"] == {"spark-on-eks.io/monitoring": "true"}


# --- rules and dashboards ------------------------------------------------------------------------


def _metrics(expr: str) -> set[str]:
    names: set[str] = set()

    def visit(node):
        if isinstance(node, promql_parser.VectorSelector) and node.name:
            names.add(node.name)

    promql_parser.walk(promql_parser.parse(expr), visit)
    return names


def _rules(view):
    groups = _values(view, "kube-prometheus-stack")["additionalPrometheusRulesMap"]["spark-on-eks"]["groups"]
    return [rule for group in groups for rule in group["rules"]]


def test_the_promised_alerts_exist(prod):
    assert {r["alert"] for r in _rules(prod)} == {
        "SparkExecutorOOMKilled",
        "SparkPodsPendingTooLong",
        "SparkApplicationFailureRateHigh",
        "SparkTeamQuotaNearlyExhausted",
        "SparkHistoryServerDown",
        "KarpenterSpotInterruptionsHigh",
        "KarpenterLaunchFailures",
        "KarpenterNodePoolAtLimit",
        "NodeNotReady",
    }


def test_every_rule_parses_and_uses_exposed_metrics(prod):
    for rule in _rules(prod):
        used = _metrics(rule["expr"])
        assert used and used <= KNOWN, (rule["alert"], used - KNOWN)
        assert rule["labels"]["severity"] in {"info", "warning", "critical"}
        assert rule["annotations"]["summary"]


def test_rules_watch_exactly_the_team_namespaces(prod):
    oom = next(r for r in _rules(prod) if r["alert"] == "SparkExecutorOOMKilled")
    assert 'namespace=~"analytics|ml-platform"' in oom["expr"]


def test_a_broken_expression_is_caught():
    with pytest.raises(ValueError, match="unclosed left parenthesis"):
        _metrics("sum(rate(metrics_executor_activeTasks[5m])")


DASHBOARDS = dashboard_files()
_VARIABLE = re.compile(r"\$(\w+)")


def _panels(dashboard):
    for panel in dashboard["panels"]:
        yield panel
        yield from panel.get("panels", [])


def test_six_dashboards_are_shipped():
    assert sorted(p.stem for p in DASHBOARDS) == ["celeborn-shuffle", "karpenter-capacity", "spark-applications", "spark-operator", "team-cost", "team-quotas"]


@pytest.mark.parametrize("path", DASHBOARDS, ids=[p.stem for p in DASHBOARDS])
def test_dashboard_loads_and_every_query_is_sound(path: Path):
    dashboard = json.loads(path.read_text())
    assert dashboard["uid"] == path.stem and dashboard["panels"]
    variables = {v["name"] for v in dashboard.get("templating", {}).get("list", [])}
    for panel in _panels(dashboard):
        uid = panel["datasource"]["uid"]
        assert uid in {PROMETHEUS_UID, LOKI_UID}, (panel["title"], uid)
        for target in panel["targets"]:
            expr = target["expr"]
            assert set(_VARIABLE.findall(expr)) <= variables, panel["title"]
            concrete = _VARIABLE.sub("x", expr)
            if uid == PROMETHEUS_UID:
                used = _metrics(concrete)
                assert used and used <= KNOWN, (panel["title"], used - KNOWN)
            else:
                # A LogQL stream selector over the labels Fluent Bit sets.
                labels = set(re.findall(r"(\w+)=", concrete.strip("{}")))
                assert labels <= set(LOKI_LABELS), (panel["title"], labels)


def test_the_spark_dashboard_covers_what_users_asked_for():
    dashboard = json.loads((Path(DASHBOARDS[0]).parent / "spark-applications.json").read_text())
    titles = " / ".join(p["title"] for p in dashboard["panels"]).lower()
    for words in ("executors", "tasks", "shuffle", "gc", "memory vs limit", "oom", "logs"):
        assert words in titles


def test_dashboards_reach_grafana_through_its_sidecar(prod):
    maps = [r["inputs"] for r in prod.of_type("kubernetes:core/v1:ConfigMap") if r["inputs"]["metadata"]["name"].startswith("dashboard-")]
    assert len(maps) == len(DASHBOARDS)
    for manifest in maps:
        assert manifest["metadata"]["labels"] == {"grafana_dashboard": "1"}
        [(file_name, content)] = manifest["data"].items()
        assert json.loads(content)["uid"] == Path(file_name).stem
    sidecar = _values(prod, "kube-prometheus-stack")["grafana"]["sidecar"]["dashboards"]
    assert (sidecar["label"], sidecar["labelValue"]) == ("grafana_dashboard", "1")


def test_datasources_are_provisioned_for_loki_and_optionally_tempo(prod, plan_variant):
    sources = {s["uid"]: s for s in _values(prod, "kube-prometheus-stack")["grafana"]["additionalDataSources"]}
    assert set(sources) == {LOKI_UID, "loki-analytics", "loki-ml-platform"}
    assert sources[LOKI_UID]["url"] == "http://loki-gateway.monitoring.svc.cluster.local:8080"
    view = plan_variant("dev", observability={"tempoUrl": "http://tempo.tracing:3100"})
    sources = {s["uid"]: s for s in _values(view, "kube-prometheus-stack")["grafana"]["additionalDataSources"]}
    assert sources[TEMPO_UID]["url"] == "http://tempo.tracing:3100" and sources[TEMPO_UID]["type"] == "tempo"


def test_observability_can_be_turned_off(plan_variant):
    view = plan_variant("dev", observability={"enabled": False})
    assert {r["inputs"]["name"] for r in view.of_type(HELM_RELEASE)} == {"karpenter-crd", "karpenter", "spark-operator", "yunikorn"}
    assert "serviceMonitor" not in _values(view, "karpenter")


def _effective_grafana_values(view):
    """Grafana's values as its chart sees them: its defaults, kube-prometheus-stack's, then ours."""
    from components.helm import merge_values
    from sparkeks.conformance import chart_defaults, schemas_dir

    root = schemas_dir()
    defaults = merge_values(chart_defaults(root, "grafana"), chart_defaults(root, "kube-prometheus-stack")["grafana"])
    return merge_values(defaults, _values(view, "kube-prometheus-stack")["grafana"])


def test_grafana_reads_configmaps_and_secrets_of_its_own_namespace_only(prod):
    from components.observability.grafana_rbac import grafana_grants, sidecar_namespaces

    values = _effective_grafana_values(prod)
    reads = {"apiGroups": [""], "resources": ["configmaps", "secrets"], "verbs": ["get", "watch", "list"]}
    # A Role in `monitoring` and no ClusterRole: no Secret of any other namespace is readable.
    assert grafana_grants(values, "monitoring") == [{"kind": "Role", "namespace": "monitoring", "rules": [reads]}]
    # Every sidecar looks in `monitoring` only: a team's labelled ConfigMap is never loaded.
    assert sidecar_namespaces(values, "monitoring") == {"dashboards": ["monitoring"], "datasources": ["monitoring"]}
    # Dashboards come from ConfigMaps only (the platform's, reviewed in this repository).
    assert values["sidecar"]["dashboards"]["resource"] == "configmap"
    assert {m["inputs"]["metadata"]["namespace"] for m in prod.of_type("kubernetes:core/v1:ConfigMap") if m["inputs"]["metadata"]["name"].startswith("dashboard-")} == {"monitoring"}


def test_the_charts_default_rbac_would_read_every_secret_in_the_cluster(prod):
    """The model is not vacuous: the chart's defaults (rbac.namespaced unset) grant a ClusterRole on Secrets."""
    from components.helm import merge_values
    from components.observability.grafana_rbac import grafana_grants

    values = merge_values(_effective_grafana_values(prod), {"rbac": {"namespaced": False}})
    cluster = [g for g in grafana_grants(values, "monitoring") if g["kind"] == "ClusterRole"]
    assert cluster and "secrets" in cluster[0]["rules"][0]["resources"]


LABELS_LINE = (
    "    Labels job=fluent-bit, namespace=$kubernetes['namespace_name'], pod=$kubernetes['pod_name'], "
    "container=$kubernetes['container_name'], spark_app_id=$kubernetes['labels']['spark-app-selector'], "
    "spark_role=$kubernetes['labels']['spark-role']"
)


def _loki_output(match, tenant):
    return [
        "[OUTPUT]",
        "    Name loki",
        f"    Match {match}",
        "    Host loki-gateway.monitoring.svc.cluster.local",
        "    Port 8080",
        f"    tenant_id {tenant}",
        LABELS_LINE,
        "    Remove_Keys kubernetes",
        "    Line_Format json",
        "    Retry_Limit 10",
    ]


def test_loki_is_multi_tenant_and_each_team_namespace_is_its_own_tenant(prod):
    loki = _values(prod, "loki")["loki"]
    assert loki["auth_enabled"] is True
    # Platform admins' data source reads several tenants in one query.
    assert loki["querier"] == {"multi_tenant_queries_enabled": True}
    config = _values(prod, "fluent-bit")["config"]
    # Team logs are re-tagged by namespace (the original record is dropped, so no line goes to two tenants).
    assert config["filters"].splitlines()[-5:] == [
        "[FILTER]",
        "    Name rewrite_tag",
        "    Match kube.*",
        "    Rule $kubernetes['namespace_name'] ^(analytics|ml-platform)$ team.$kubernetes['namespace_name'] false",
        "    Emitter_Name team_logs",
    ]
    assert config["outputs"].splitlines() == [
        *_loki_output("team.analytics", "analytics"),
        "",
        *_loki_output("team.ml-platform", "ml-platform"),
        "",
        # Everything still tagged kube.* after the rewrite: the platform namespaces.
        *_loki_output("kube.*", "spark_on_eks_platform"),
    ]


def test_grafana_has_a_loki_data_source_per_team_tenant_and_one_for_the_platform(prod):
    sources = [s for s in _values(prod, "kube-prometheus-stack")["grafana"]["additionalDataSources"] if s["type"] == "loki"]
    header = {"httpHeaderName1": "X-Scope-OrgID"}
    assert [(s["name"], s["uid"], s["jsonData"], s["secureJsonData"]) for s in sources] == [
        ("Loki", "loki", {"maxLines": 5000, **header}, {"httpHeaderValue1": "spark_on_eks_platform|analytics|ml-platform"}),
        ("Loki (analytics)", "loki-analytics", {"maxLines": 5000, **header}, {"httpHeaderValue1": "analytics"}),
        ("Loki (ml-platform)", "loki-ml-platform", {"maxLines": 5000, **header}, {"httpHeaderValue1": "ml-platform"}),
    ]
    assert {s["url"] for s in sources} == {"http://loki-gateway.monitoring.svc.cluster.local:8080"}
