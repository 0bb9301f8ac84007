"""People's way into a team's History Server: an OIDC login (oauth2-proxy) in front of Spark, which listens
on the pod's loopback address only; the team's group decides; secrets only from Pulumi secret config."""

from __future__ import annotations

import http.server
import subprocess
import threading
from pathlib import Path

import pytest

from components.history_server.login import cookie_secret
from components.history_server.manifests import loopback_probe
from sparkeks import versions
from sparkeks.netpol import Pod, may_connect
from sparkeks.plan.runner import SECRET_PLACEHOLDER
from tests.conftest import PlanView, make_project, stack_config, with_overrides, written_plan
from tests.local_servers import closed_port

DEPLOYMENT = "kubernetes:apps/v1:Deployment"


def _pod(view, team):
    return view.one(DEPLOYMENT, f"history-{team}")["inputs"]["spec"]["template"]["spec"]


def _container(view, team, name):
    return next(c for c in _pod(view, team)["containers"] if c["name"] == name)


def test_the_login_lets_in_only_the_teams_group(prod):
    login = _container(prod, "analytics", "login")
    assert login["image"] == f"quay.io/oauth2-proxy/oauth2-proxy:v{versions.OAUTH2_PROXY_VERSION}"
    assert login["args"] == [
        "--provider=oidc",
        "--oidc-issuer-url=https://login.example.com/realms/data-platform",
        "--client-id=spark-history-prod",
        "--oidc-groups-claim=groups",
        "--allowed-group=data-analytics",
        "--email-domain=*",
        "--scope=openid email profile",
        "--code-challenge-method=S256",
        "--http-address=0.0.0.0:18080",
        "--metrics-address=0.0.0.0:44180",
        "--upstream=http://127.0.0.1:18081/",
        "--cookie-name=_oauth2_proxy_analytics",
        "--cookie-secure=true",
        "--skip-provider-button=true",
        "--silence-ping-logging=true",
    ]
    assert "--allowed-group=ml-platform-engineers" in _container(prod, "ml-platform", "login")["args"]
    # Secrets come from the team's Secret, never from arguments or plain env values.
    assert login["env"] == [
        {"name": "OAUTH2_PROXY_CLIENT_SECRET", "valueFrom": {"secretKeyRef": {"name": "spark-history-server-analytics-login", "key": "client-secret"}}},
        {"name": "OAUTH2_PROXY_COOKIE_SECRET", "valueFrom": {"secretKeyRef": {"name": "spark-history-server-analytics-login", "key": "cookie-secret"}}},
    ]
    assert login["ports"] == [
        {"name": "http", "containerPort": 18080, "protocol": "TCP"},
        {"name": "login-metrics", "containerPort": 44180, "protocol": "TCP"},
    ]
    assert login["readinessProbe"]["httpGet"] == {"path": "/ready", "port": "http"}
    assert login["livenessProbe"]["httpGet"] == {"path": "/ping", "port": "http"}


def test_spark_listens_on_loopback_behind_the_login(prod):
    spark = _container(prod, "analytics", "history-server")
    env = {e["name"]: e["value"] for e in spark["env"]}
    assert env["SPARK_LOCAL_IP"] == "127.0.0.1"
    assert "-Dspark.history.ui.port=18081" in env["SPARK_HISTORY_OPTS"]
    assert "ports" not in spark  # nothing to reach from outside the pod
    assert spark["livenessProbe"] == loopback_probe("/api/v1/version", periodSeconds=20, timeoutSeconds=10, failureThreshold=6)
    assert spark["readinessProbe"]["exec"]["command"][:2] == ["/bin/bash", "-c"]
    # Every probe knocks on the port Spark listens on.
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert spark[probe]["exec"]["command"][2].startswith("exec 3<>/dev/tcp/127.0.0.1/18081 && "), probe
    # The Service still names port 18080 by the name `http`: the login's port now.
    service = prod.one("kubernetes:core/v1:Service", "history-analytics")["inputs"]
    assert service["spec"]["ports"] == [{"name": "http", "port": 18080, "targetPort": "http", "protocol": "TCP"}]
    assert prod.plan.outputs["historyServers"]["analytics"] == "spark-history-server-analytics.spark-history:18080"


class _Spark(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (the http.server API)
        self.send_response(200 if self.path == "/api/v1/version" else 404)
        self.end_headers()
        self.wfile.write(b'{"spark": "4.2.0"}')

    def log_message(self, *args):
        pass


@pytest.fixture
def spark_on_loopback():
    """A fake Spark on a port of its own (a fixed one would collide with a suite running beside this one)."""
    server = http.server.HTTPServer(("127.0.0.1", 0), _Spark)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def _probe(path: str, port: int) -> int:
    command = loopback_probe(path, port=port)["exec"]["command"]
    return subprocess.run(command, capture_output=True, timeout=30).returncode


def test_the_loopback_probe_passes_on_200_only(spark_on_loopback):
    assert _probe("/api/v1/version", spark_on_loopback) == 0
    assert _probe("/api/v1/applications?limit=1", spark_on_loopback) != 0  # this fake answers 404 there


def test_the_loopback_probe_fails_when_spark_is_down():
    with closed_port() as port:
        assert _probe("/api/v1/version", port) != 0


def test_each_teams_cookie_key_is_its_own():
    master = "a-master-key-only-pulumi-config-holds-0123456789"
    analytics, ml = cookie_secret(master, "analytics"), cookie_secret(master, "ml-platform")
    assert len(analytics) == len(ml) == 32
    assert analytics != ml and master not in (analytics, ml)
    assert cookie_secret(master, "analytics") == analytics  # stable: no rollout on every deploy
    assert cookie_secret(master + "x", "analytics") != analytics


def test_login_secrets_never_reach_the_plan_in_plain_text(prod, tmp_path):
    for team in ("analytics", "ml-platform"):
        secret = prod.one("kubernetes:core/v1:Secret", f"history-{team}-login")["inputs"]
        assert secret["metadata"]["namespace"] == "spark-history"
        assert secret["stringData"] == {"client-secret": "[secret]", "cookie-secret": "[secret]"}
    assert {"spark-on-eks:historyServerClientSecret", "spark-on-eks:historyServerCookieSecret"} <= set(prod.plan.secrets)
    out = written_plan(tmp_path, "login", stack_config("prod"))
    # The plan's stand-in for the secrets, and the cookie key derived from it, appear in no written file.
    derived = cookie_secret(SECRET_PLACEHOLDER, "analytics")
    for path in Path(out).rglob("*"):
        if path.is_file():
            text = path.read_text()
            assert SECRET_PLACEHOLDER not in text and derived not in text, path


def test_prometheus_scrapes_the_logins_and_only_the_team_reaches_the_server(prod):
    monitor = prod.one("kubernetes:monitoring.coreos.com/v1:PodMonitor", "history-login-metrics")["inputs"]
    assert monitor["metadata"]["namespace"] == "spark-history"
    assert monitor["spec"]["podMetricsEndpoints"] == [{"port": "login-metrics", "path": "/metrics", "interval": "30s"}]
    policies = [r["inputs"] for r in prod.of_type("kubernetes:networking.k8s.io/v1:NetworkPolicy")]
    server = Pod("spark-history", {"app.kubernetes.io/name": "spark-history-server", "app.kubernetes.io/instance": "analytics"}, "10.20.0.50")
    prometheus = Pod("monitoring", {"app.kubernetes.io/name": "prometheus"}, "10.20.0.51")
    member, other = Pod("analytics", {"spark-role": "driver"}, "10.20.0.52"), Pod("ml-platform", {"spark-role": "driver"}, "10.20.0.53")
    assert may_connect(policies, {}, prometheus, server, 44180)
    assert not may_connect(policies, {}, prometheus, server, 18080)
    assert may_connect(policies, {}, member, server, 18080)
    assert not may_connect(policies, {}, member, server, 44180)
    assert not may_connect(policies, {}, other, server, 18080)
    # Spark's own port behind the login: nobody, from any pod (it listens on loopback anyway).
    assert not may_connect(policies, {}, member, server, 18081)


def _plan_errors(tmp_path, stack, **sections):
    from sparkeks.plan.runner import PlanError, run_plan

    config = with_overrides(stack_config(stack), **sections)
    project = make_project(tmp_path / "project", {stack: config})
    with pytest.raises(PlanError) as err:
        run_plan(stack, project)
    return str(err.value).splitlines()


def test_the_login_needs_its_provider_and_secrets(tmp_path):
    config = stack_config("prod")
    config = {k: v for k, v in config.items() if k not in ("spark-on-eks:historyServerClientSecret", "spark-on-eks:historyServerCookieSecret")}
    config["spark-on-eks:historyServer"] = {}
    project = make_project(tmp_path / "project", {"prod": config})
    from sparkeks.plan.runner import PlanError, run_plan

    with pytest.raises(PlanError) as err:
        run_plan("prod", project)
    f = "stacks/Pulumi.prod.yaml: spark-on-eks"
    assert str(err.value).splitlines() == [
        f"{f}:historyServer.access.issuerUrl: (missing): is required with historyServer.access (the OIDC login of the History Servers)",
        f"{f}:historyServer.access.clientId: (missing): is required with historyServer.access (the OIDC login of the History Servers)",
        f"{f}:historyServerClientSecret: (missing): is required with historyServer.access: set it with `pulumi config set --secret spark-on-eks:historyServerClientSecret`",
        f"{f}:historyServerCookieSecret: (missing): is required with historyServer.access: set it with `pulumi config set --secret spark-on-eks:historyServerCookieSecret`",
    ]


def test_the_login_refuses_a_plain_http_load_balancer_and_a_non_https_issuer(tmp_path):
    lines = _plan_errors(
        tmp_path, "prod", historyServer={"internalLoadBalancer": True, "access": {"issuerUrl": "http://login.example.com", "clientId": "x"}}
    )
    f = "stacks/Pulumi.prod.yaml: spark-on-eks"
    assert lines == [
        f'{f}:historyServer.access.issuerUrl: "http://login.example.com": must be an https:// URL (the provider\'s issuer)',
    ]
    lines = _plan_errors(tmp_path / "lb", "prod", historyServer={"internalLoadBalancer": True, "access": {"issuerUrl": "https://login.example.com", "clientId": "x"}})
    assert lines == [
        f"{f}:historyServer.internalLoadBalancer: true: serves plain HTTP, where browsers drop the login's Secure cookie; "
        "reach the servers with kubectl port-forward, or turn historyServer.access off"
    ]


def test_without_the_login_the_plan_says_so(dev, prod, tmp_path, plan_variant):
    from sparkeks.plan.writer import summary_of

    warning = (
        "- **Warning:** History Servers have no login (`historyServer.access` is off): every pod in a team's namespace, "
        "and everyone who may port-forward to a server, reads its applications' SQL, plans and configs. On by default in prod."
    )
    assert warning in summary_of(dev.plan).splitlines()
    assert "## Warnings" not in summary_of(prod.plan)
    assert [c["name"] for c in _pod(dev, "analytics")["containers"]] == ["history-server"]
    off = plan_variant("prod", historyServer={"access": {"enabled": False}})
    assert warning in summary_of(off.plan).splitlines()
    assert [c["name"] for c in _pod(off, "analytics")["containers"]] == ["history-server"]
    assert off.of_type("kubernetes:core/v1:Secret") and not [s for s in off.of_type("kubernetes:core/v1:Secret") if s["name"].endswith("-login")]


def test_a_private_cluster_pulls_the_login_through_its_cache(plan_variant):
    from tests.conftest import PRIVATE_NETWORK

    view: PlanView = plan_variant("prod", network=PRIVATE_NETWORK)
    login = _container(view, "analytics", "login")
    assert login["image"] == f"111122223333.dkr.ecr.us-east-1.amazonaws.com/quay/oauth2-proxy/oauth2-proxy:v{versions.OAUTH2_PROXY_VERSION}"


def test_a_group_with_a_comma_is_refused(tmp_path):
    teams = stack_config("prod")["spark-on-eks:teams"]
    teams = [{**teams[0], "group": "data,admins"}, teams[1]]
    lines = _plan_errors(tmp_path, "prod", teams=teams)
    assert lines == [
        'stacks/Pulumi.prod.yaml: spark-on-eks:teams[0].group: "data,admins": '
        "must be 1-256 characters without commas or control characters (an identity-provider group)"
    ]


def test_a_team_without_a_group_is_let_in_by_its_conventional_group_only(plan_variant):
    """Fail closed: the default names the team's Kubernetes group; a provider without it lets nobody in."""
    teams = stack_config("prod")["spark-on-eks:teams"]
    view = plan_variant("prod", teams=[{k: v for k, v in teams[0].items() if k != "group"}, teams[1]])
    assert "--allowed-group=spark-on-eks:team:analytics" in _container(view, "analytics", "login")["args"]
    assert "--allowed-group=ml-platform-engineers" in _container(view, "ml-platform", "login")["args"]


def test_a_provider_on_private_routes_is_reached_by_its_ranges_only(plan_variant):
    view = plan_variant("prod", historyServer={"access": {**stack_config("prod")["spark-on-eks:historyServer"]["access"], "issuerCidrs": ["10.200.0.0/24"]}})
    policies = [r["inputs"] for r in view.of_type("kubernetes:networking.k8s.io/v1:NetworkPolicy")]
    server = Pod("spark-history", {"app.kubernetes.io/name": "spark-history-server", "app.kubernetes.io/instance": "analytics"}, "10.20.0.50")
    from sparkeks.netpol import Address

    assert may_connect(policies, {}, server, Address("10.200.0.7"), 443)
    assert not may_connect(policies, {}, server, Address("10.200.1.7"), 443)
    assert not may_connect(policies, {}, server, Address("10.200.0.7"), 80)
