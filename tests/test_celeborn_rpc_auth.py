"""Celeborn's RPC authentication: each application's shuffle data answers only to that application.

Upstream facts (Celeborn 0.7.0, CelebornConf.scala and the servers' sources): with `celeborn.auth.enabled`
and `celeborn.internal.port.enabled` on the servers, the LifecycleManager registers its application with
the master under a secret it makes, the master keeps it in Raft and hands it to the workers it assigns
over their internal port, and every client connection to the client ports then authenticates with
SASL DIGEST-MD5 as its application and may touch only that application's shuffles. Masters and workers
talk among themselves on internal ports without authentication, so only Celeborn's own pods may reach
those (and the Raft and replicate ports). The client needs only `spark.celeborn.auth.enabled`.
"""

from __future__ import annotations

import pytest

from components.celeborn.rpc_auth import rpc_auth_conf
from components.spark.teams import TEAM_LABEL
from sparkeks.netpol import Pod
from sparkeks.plan.writer import summary_of
from tests.test_celeborn import _conf, _load, _problems, _spec, _values, celeborn_pod, reach_under

SERVER_AUTH = {
    "celeborn.auth.enabled": True,
    "celeborn.internal.port.enabled": True,
    # Each HA master binds the internal port of its node id; the chart's internal endpoints name no port,
    # so workers dial Celeborn's default, 8097, which these must equal.
    "celeborn.master.ha.node.0.internal.port": 8097,
    "celeborn.master.ha.node.1.internal.port": 8097,
    "celeborn.master.ha.node.2.internal.port": 8097,
    # Fixed, not upstream's random 0: graceful shutdown refuses a random port, and policies name it.
    "celeborn.worker.internal.port": 9095,
}

OFF_WARNING = (
    "- **Warning:** Celeborn's RPC authentication is off (`spark.shuffle.celeborn.rpcAuth: disabled`): any pod that "
    "reaches the masters' and workers' client ports (every team's pods, by design) may read, overwrite or drop "
    "another application's shuffle data, another team's included. On by default."
)
UNISOLATED_WARNING = (
    "- **Warning:** Celeborn's shuffle data is not isolated between teams without NetworkPolicies "
    "(`spark.networkPolicies`): Celeborn 0.7.0 hands an application's secret to any pod that asks its driver, "
    "and lets any pod that reaches the internal ports pose as a worker. On by default in prod."
)


def _server_auth(view) -> dict:
    conf = _values(view)["values"]["celeborn"]
    return {k: v for k, v in conf.items() if k.startswith(("celeborn.auth.", "celeborn.internal.")) or ".internal." in k}


def test_masters_and_workers_require_sasl_and_talk_among_themselves_on_internal_ports(celeborn):
    assert _server_auth(celeborn) == SERVER_AUTH
    # prod has NetworkPolicies: nothing to warn about.
    assert "## Warnings" not in summary_of(celeborn.plan)


def test_the_conf_builder_renders_all_of_it_or_nothing():
    assert rpc_auth_conf("sasl") == SERVER_AUTH
    assert rpc_auth_conf("disabled") == {}


def test_a_celeborn_job_authenticates_as_its_application(tmp_path, celeborn_project):
    conf = _conf(_spec(tmp_path, shuffle="celeborn"), celeborn_project)["sparkConf"]
    assert conf["spark.celeborn.auth.enabled"] == "true"
    # Only the switch: the LifecycleManager makes the secret, executors ask it for it.
    celeborn = [k for k in conf if k.startswith("spark.celeborn.")]
    assert sorted(k for k in celeborn if "auth" in k or "internal" in k or "sasl" in k.lower() or "secret" in k) == ["spark.celeborn.auth.enabled"]


def test_a_job_may_not_turn_authentication_off(tmp_path, celeborn_project):
    path = _spec(tmp_path, shuffle="celeborn", sparkConf={"spark.celeborn.auth.enabled": "false"})
    assert _problems(path, celeborn_project) == [
        f"{path}: sparkConf.spark.celeborn.auth.enabled: \"false\": set by the platform for shuffle: celeborn"
    ]


def test_only_celeborns_own_pods_reach_the_unauthenticated_ports(celeborn):
    reach = reach_under(celeborn)
    team = Pod("analytics", {"spark-role": "executor"})
    prometheus = Pod("monitoring", {"app.kubernetes.io/name": "prometheus"})
    master, worker = celeborn_pod("master"), celeborn_pod("worker")

    # Internal ports: workers register and heartbeat on the masters' 8097, masters push secrets to 9095.
    assert reach(worker, master, 8097) and reach(master, master, 8097) and reach(master, worker, 9095)
    for outsider in (team, prometheus):
        assert not reach(outsider, master, 8097) and not reach(outsider, worker, 9095)
        assert not reach(outsider, master, 9872) and not reach(outsider, worker, 9094)
    # Teams keep the authenticated client ports.
    assert reach(team, master, 9097) and all(reach(team, worker, p) for p in (9091, 9092, 9093))


def test_another_teams_pods_cannot_ask_a_driver_for_its_secret(celeborn):
    # The LifecycleManager answers any caller with the application's secret, on a port of its own choice
    # (`celeborn.client.shuffle.manager.port` 0): only the team's own pods may reach a driver at all.
    reach = reach_under(celeborn, {team: {TEAM_LABEL: team} for team in ("data", "analytics")})
    driver = Pod("analytics", {"spark-role": "driver"})
    own, other = Pod("analytics", {"spark-role": "executor"}), Pod("data", {"spark-role": "executor"})
    for port in (7078, 38421, 65000):
        assert reach(own, driver, port)
        assert not reach(other, driver, port)
        assert not reach(celeborn_pod("worker"), driver, port)


def test_turning_it_off_is_an_explicit_choice_the_plan_warns_about(plan_variant):
    view = plan_variant("prod", spark={"shuffle": {"service": "celeborn", "celeborn": {"rpcAuth": "disabled"}}})
    assert _server_auth(view) == {}
    assert OFF_WARNING in summary_of(view.plan).splitlines()
    assert UNISOLATED_WARNING not in summary_of(view.plan).splitlines()


def test_a_job_on_a_stack_without_authentication_sends_no_auth_setting(tmp_path):
    from tests.conftest import make_project, stack_config, with_overrides

    config = with_overrides(stack_config("prod"), spark={"shuffle": {"service": "celeborn", "celeborn": {"rpcAuth": "disabled"}}})
    project = make_project(tmp_path / "project", {"prod": config})
    assert "spark.celeborn.auth.enabled" not in _conf(_spec(tmp_path, shuffle="celeborn"), project)["sparkConf"]


def test_without_network_policies_the_plan_says_teams_are_not_isolated(plan_variant):
    view = plan_variant("dev", spark={"shuffle": {"service": "celeborn"}})
    lines = summary_of(view.plan).splitlines()
    assert _server_auth(view) == SERVER_AUTH
    assert UNISOLATED_WARNING in lines and OFF_WARNING not in lines


@pytest.mark.parametrize("value", ["none", True])
def test_an_unknown_rpc_auth_setting_names_the_choices(value):
    rendered = '"none"' if value == "none" else "true"
    assert _load({"shuffle": {"service": "celeborn", "celeborn": {"rpcAuth": value}}}) == [
        f"stacks/Pulumi.dev.yaml: spark-on-eks:spark.shuffle.celeborn.rpcAuth: {rendered}: must be one of 'sasl' or 'disabled'"
    ]


def _logged_warnings(monkeypatch) -> list[str]:
    """What the program tells `pulumi up` / preview with pulumi.log.warn, recorded while a plan runs it."""
    import pulumi

    logged: list[str] = []
    monkeypatch.setattr(pulumi.log, "warn", lambda message, resource=None, *args, **kwargs: logged.append(message))
    return logged


def test_pulumi_up_logs_every_celeborn_warning_the_plan_summary_shows(plan_variant, monkeypatch):
    logged = _logged_warnings(monkeypatch)
    view = plan_variant("dev", spark={"shuffle": {"service": "celeborn", "celeborn": {"adminApi": "open"}}})
    summary = [line.removeprefix("- **Warning:** ") for line in summary_of(view.plan).splitlines() if line.startswith("- **Warning:** Celeborn")]
    assert [m for m in logged if m.startswith("Celeborn")] == summary
    # The open REST API, and (dev has no NetworkPolicies) the missing isolation.
    assert [m[:40] for m in summary] == ["Celeborn's REST API is open (`spark.shuf", "Celeborn's shuffle data is not isolated "]
    assert UNISOLATED_WARNING.removeprefix("- **Warning:** ") in logged


def test_pulumi_up_says_nothing_of_isolation_with_network_policies(plan_variant, monkeypatch):
    logged = _logged_warnings(monkeypatch)
    plan_variant("prod", spark={"shuffle": {"service": "celeborn"}})
    assert [m for m in logged if m.startswith("Celeborn")] == []
