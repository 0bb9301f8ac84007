"""The platform's alert rules and Alertmanager configuration, checked by Prometheus' own tools:
`promtool check rules` and `promtool test rules` (every alert firing and staying quiet), and
`amtool check-config` / `amtool config routes test` on the configuration the platform writes."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from components.observability.alerting import alertmanager_config
from sparkeks.plan.writer import HELM_RELEASE
from tests.real_tools import require

UNIT_TESTS = Path(__file__).parent / "alerts" / "platform-alerts.test.yml"
# Stands in for the Slack webhook, which only ever comes from Pulumi secret config.
TEST_WEBHOOK = "https://hooks.example.invalid/services/T000/B000/test"


def _run(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run(argv, capture_output=True, text=True, timeout=120)


def _rendered_groups(view) -> list[dict]:
    """The rule groups exactly as the plan hands them to kube-prometheus-stack (one PrometheusRule)."""
    [release] = [r for r in view.of_type(HELM_RELEASE) if r["inputs"]["name"] == "kube-prometheus-stack"]
    return release["inputs"]["values"]["additionalPrometheusRulesMap"]["spark-on-eks"]["groups"]


@pytest.fixture(scope="module")
def rules_dir(prod, tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("rules")
    (directory / "rules.yml").write_text(yaml.safe_dump({"groups": _rendered_groups(prod)}, sort_keys=False))
    (directory / UNIT_TESTS.name).write_text(UNIT_TESTS.read_text())
    return directory


def test_promtool_accepts_the_rendered_rules(rules_dir):
    result = _run(require("promtool"), "check", "rules", str(rules_dir / "rules.yml"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 9 rules found" in result.stdout


def test_promtool_rejects_a_broken_rule(tmp_path):
    broken = {"groups": [{"name": "x", "rules": [{"alert": "Broken", "expr": "sum(rate(x[5m])", "for": "1m"}]}]}
    (tmp_path / "rules.yml").write_text(yaml.safe_dump(broken))
    result = _run(require("promtool"), "check", "rules", str(tmp_path / "rules.yml"))
    assert result.returncode == 1 and "unclosed left parenthesis" in result.stdout + result.stderr


def test_every_alert_has_a_firing_and_a_quiet_unit_test(prod):
    alerts = {rule["alert"] for group in _rendered_groups(prod) for rule in group["rules"]}
    cases = [case for test in yaml.safe_load(UNIT_TESTS.read_text())["tests"] for case in test["alert_rule_test"]]
    fires = {c["alertname"] for c in cases if c["exp_alerts"]}
    quiet = {c["alertname"] for c in cases if not c["exp_alerts"]}
    assert fires == alerts and quiet == alerts


def test_promtool_unit_tests_pass_on_the_rendered_rules(rules_dir):
    result = _run(require("promtool"), "test", "rules", str(rules_dir / UNIT_TESTS.name))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_promtool_unit_tests_catch_a_changed_rule(prod, tmp_path):
    """The unit tests really look at the rules: a threshold moved from 90% to 99% makes them fail."""
    groups = _rendered_groups(prod)
    changed = [
        {**group, "rules": [{**r, "expr": r["expr"].replace("> 0.9", "> 0.99")} for r in group["rules"]]} for group in groups
    ]
    (tmp_path / "rules.yml").write_text(yaml.safe_dump({"groups": changed}, sort_keys=False))
    (tmp_path / UNIT_TESTS.name).write_text(UNIT_TESTS.read_text())
    result = _run(require("promtool"), "test", "rules", str(tmp_path / UNIT_TESTS.name))
    assert result.returncode == 1
    assert "alertname: SparkTeamQuotaNearlyExhausted" in result.stderr + result.stdout
    assert "alertname: KarpenterNodePoolAtLimit" in result.stderr + result.stdout


@pytest.mark.parametrize("webhook", [None, TEST_WEBHOOK], ids=["no-slack", "slack"])
def test_amtool_accepts_the_alertmanager_config(webhook, tmp_path):
    path = tmp_path / "alertmanager.yaml"
    path.write_text(yaml.safe_dump(alertmanager_config(slack_channel="#data-alerts", slack_webhook_url=webhook), sort_keys=False))
    result = _run(require("amtool"), "check-config", str(path))
    assert result.returncode == 0, result.stdout + result.stderr
    receivers = 2 if webhook else 1
    assert f" - {receivers} receivers" in result.stdout


@pytest.mark.parametrize(
    ("labels", "receiver"),
    [
        (["alertname=SparkExecutorOOMKilled", "namespace=analytics"], "slack"),
        (["alertname=NodeNotReady"], "slack"),
        # kube-prometheus-stack's always-firing heartbeat is not news.
        (["alertname=Watchdog"], "null"),
    ],
)
def test_alertmanager_routes_alerts_as_intended(labels, receiver, tmp_path):
    path = tmp_path / "alertmanager.yaml"
    path.write_text(
        yaml.safe_dump(alertmanager_config(slack_channel="#data-alerts", slack_webhook_url=TEST_WEBHOOK), sort_keys=False)
    )
    result = _run(require("amtool"), "config", "routes", "test", f"--config.file={path}", *labels)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == receiver


def test_amtool_rejects_a_route_to_a_missing_receiver(tmp_path):
    config = alertmanager_config(slack_channel=None, slack_webhook_url=None)
    config["route"]["receiver"] = "pagerduty"
    path = tmp_path / "alertmanager.yaml"
    path.write_text(yaml.safe_dump(config))
    result = _run(require("amtool"), "check-config", str(path))
    assert result.returncode == 1 and 'undefined receiver "pagerduty"' in result.stdout + result.stderr
