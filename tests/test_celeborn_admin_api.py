"""Celeborn's REST API: read-only for everyone unless a stack opens it on purpose, and Prometheus still scrapes.

Upstream facts (Celeborn 0.7.0, CelebornConf.scala and the server's AuthenticationFilter): with an HTTP auth
scheme set, state-changing calls (POST, PUT, DELETE, PATCH) need a caller named in
`celeborn.<role>.http.auth.administers`, empty by default; the only password provider shipped accepts any
password, so the platform names no administrator; the metrics servlets sit outside the filter.
"""

from __future__ import annotations

from components.celeborn.rest_api import rest_api_conf
from sparkeks.plan.writer import summary_of
from tests.test_celeborn import _load, _manifests, _values

OPEN_WARNING = (
    "- **Warning:** Celeborn's REST API is open (`spark.shuffle.celeborn.adminApi: open`): any pod that reaches the "
    "masters' and workers' HTTP ports (every pod, without `spark.networkPolicies`) may exclude, decommission or stop "
    "workers, losing running jobs' shuffle data; Celeborn 0.7.0 checks no password. Read-only by default."
)


def _auth_conf(view) -> dict:
    conf = _values(view)["values"]["celeborn"]
    return {k: v for k, v in conf.items() if ".http.auth." in k or k.startswith("celeborn.http.")}


def test_the_rest_api_refuses_every_change_by_default(celeborn):
    # A scheme on both roles and nothing else: no administrator, no provider (the shipped one takes any password).
    assert _auth_conf(celeborn) == {
        "celeborn.master.http.auth.supportedSchemes": "BASIC",
        "celeborn.worker.http.auth.supportedSchemes": "BASIC",
    }
    assert "## Warnings" not in summary_of(celeborn.plan)


def test_prometheus_scrapes_the_metrics_servlet_which_needs_no_credentials(celeborn):
    conf = _values(celeborn)["values"]["celeborn"]
    # The servlets exist only with metrics on; the monitors name the servlet's path, not an /api one.
    assert (conf["celeborn.metrics.enabled"], conf["celeborn.metrics.prometheus.path"]) == (True, "/metrics/prometheus")
    paths = {m["metadata"]["name"]: [e["path"] for e in m["spec"]["podMetricsEndpoints"]] for m in _manifests(celeborn, "PodMonitor")}
    assert paths == {"celeborn-master": ["/metrics/prometheus"], "celeborn-worker": ["/metrics/prometheus"]}


def test_read_only_needs_no_credential_and_open_sets_no_scheme():
    assert rest_api_conf("read-only") == {
        "celeborn.master.http.auth.supportedSchemes": "BASIC",
        "celeborn.worker.http.auth.supportedSchemes": "BASIC",
    }
    assert rest_api_conf("open") == {}


def test_an_open_api_is_an_explicit_choice_the_plan_warns_about(plan_variant):
    view = plan_variant("dev", spark={"shuffle": {"service": "celeborn", "celeborn": {"adminApi": "open"}}})
    assert _auth_conf(view) == {}
    assert OPEN_WARNING in summary_of(view.plan).splitlines()


def test_an_unknown_admin_api_setting_names_the_choices():
    assert _load({"shuffle": {"service": "celeborn", "celeborn": {"adminApi": "admin"}}}) == [
        "stacks/Pulumi.dev.yaml: spark-on-eks:spark.shuffle.celeborn.adminApi: \"admin\": must be one of 'read-only' or 'open'"
    ]
