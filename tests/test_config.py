"""Stack config: shipped stacks validate, defaults are right, and every bad input gets its one line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from sparkeks.config.loader import ConfigError, load_stack_config
from sparkeks.plan.cloud import SimulatedAws
from sparkeks.plan.runner import PlanError, load_stack, read_stack, run_plan
from tests.conftest import PROJECT_ROOT, make_project

_REAL_ACCOUNT = SimulatedAws
CORPUS = sorted((Path(__file__).parent / "invalid_configs").glob("*.yaml"))


def _expected(path: Path) -> list[str]:
    return [line[len("# expect: ") :] for line in path.read_text().splitlines() if line.startswith("# expect: ")]


def _corpus_project(tmp_path: Path, path: Path) -> Path:
    project = make_project(tmp_path / "project", {})
    (project / "stacks" / f"Pulumi.{path.stem}.yaml").write_text(path.read_text())
    return project


PASSWORD_KEY = "spark-on-eks:grafanaAdminPassword"


def _load(stack: str, raw: dict):
    """Load raw config the way the engine passes it, with the required secret set as a secret."""
    return load_stack_config(stack, {PASSWORD_KEY: "s3cret", **raw}, {PASSWORD_KEY})


def _shipped(stack: str):
    return load_stack(stack)


def test_corpus_is_not_empty_and_every_case_states_its_errors():
    assert len(CORPUS) >= 25
    for path in CORPUS:
        assert _expected(path), f"{path.name} has no '# expect:' line"


@pytest.mark.parametrize("path", CORPUS, ids=[p.stem for p in CORPUS])
def test_invalid_config_gives_exactly_its_lines(tmp_path, path):
    project = _corpus_project(tmp_path, path)
    stack = read_stack(path.stem, project)
    # Every problem of a file is reported at once, so the files that are about something else get the
    # password observability requires.
    config, secret = stack.config, set(stack.secret_keys)
    if PASSWORD_KEY not in config and not any(PASSWORD_KEY in line for line in _expected(path)):
        config, secret = {**config, PASSWORD_KEY: "s3cret"}, secret | {PASSWORD_KEY}
    with pytest.raises(ConfigError) as err:
        load_stack_config(path.stem, config, secret)
    assert sorted(err.value.problems) == sorted(_expected(path))
    for line in err.value.problems:
        assert line.startswith(f"stacks/Pulumi.{path.stem}.yaml: ")
        assert "\n" not in line and "Traceback" not in line


def test_invalid_config_stops_the_program_before_any_resource(tmp_path):
    path = next(p for p in CORPUS if p.stem == "several-problems-at-once")
    project = _corpus_project(tmp_path, path)
    with pytest.raises(PlanError) as err:
        run_plan(path.stem, project)
    assert err.value.exit_code == 2
    assert err.value.registered == 0
    assert sorted(err.value.lines) == sorted(_expected(path))


def test_typo_through_the_cli_is_one_line_and_exit_2(tmp_path):
    path = next(p for p in CORPUS if p.stem == "typo-nested-key")
    project = _corpus_project(tmp_path, path)
    result = subprocess.run(
        [sys.executable, "-m", "sparkeks", "plan", path.stem, "--project-dir", str(project), "--out", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
    )
    assert result.returncode == 2
    assert result.stderr.splitlines() == _expected(path)
    assert result.stdout == ""
    assert not (tmp_path / "out").exists()


def test_shipped_stacks_validate():
    for stack in ("dev", "prod"):
        config = _shipped(stack)
        assert config.region


def test_prod_is_three_zones_nat_per_zone_and_protected():
    config = _shipped("prod")
    assert len(config.network.zones) == 3
    assert config.network.nat_strategy == "perZone"
    assert config.protect_state is True


def test_dev_is_cheap_and_disposable():
    config = _shipped("dev")
    assert config.network.nat_strategy == "single"
    assert config.protect_state is False


def test_defaults_are_secure_and_production_sane():
    config = _load("any", {"aws:region": "us-east-1"})
    assert config.network.zones == ["us-east-1a", "us-east-1b", "us-east-1c"]
    assert config.network.nat_strategy == "perZone"
    assert config.cluster.public_access_cidrs == []  # private endpoint unless CIDRs are listed
    assert {"api", "audit", "authenticator"} <= set(config.cluster.log_types)
    assert config.resolved_cluster_name("any") == "spark-any"
    assert config.environment == "dev" and config.protect_state is False


def test_prod_environment_protects_by_default_and_can_opt_out():
    assert _load("p", {"aws:region": "us-east-1", "spark-on-eks:environment": "prod"}).protect_state
    opted_out = _load("p", {"aws:region": "us-east-1", "spark-on-eks:environment": "prod", "spark-on-eks:protect": "false"})
    assert opted_out.protect_state is False


def test_structured_values_arrive_as_json_strings_like_the_cli_sends_them():
    raw = {"aws:region": "us-west-2", "spark-on-eks:network": json.dumps({"zones": ["us-west-2b", "us-west-2c"]})}
    assert _load("x", raw).network.zones == ["us-west-2b", "us-west-2c"]


def test_secure_values_are_replaced_and_marked_secret(tmp_path):
    project = make_project(
        tmp_path / "p",
        {"s": {"aws:region": "us-east-1", "spark-on-eks:tags": {"owner": {"secure": "v1:abc"}}}},
    )
    stack = read_stack("s", project)
    assert "v1:abc" not in json.dumps(stack.config)
    assert stack.secret_keys == ["spark-on-eks:tags"]


def test_zones_the_account_does_not_have_are_reported_in_one_line():
    from sparkeks.config.loader import unavailable_zone_problems

    lines = unavailable_zone_problems("prod", ["us-west-1a", "us-west-1b"], ["us-west-1a", "us-west-1c"], "us-west-1", "111122223333")
    assert lines == [
        'stacks/Pulumi.prod.yaml: spark-on-eks:network.zones: ["us-west-1b"]: not available to account 111122223333 '
        "in us-west-1; available there: us-west-1a, us-west-1c"
    ]
    assert unavailable_zone_problems("prod", ["us-west-1a"], ["us-west-1a"], "us-west-1", "1") == []


class _SmallAccount:
    """An account that, like many, does not see every zone of its region."""

    def __init__(self, region, account_id="111122223333", stack_outputs=None, stack=""):
        from sparkeks.regions import Region

        self.inner = _REAL_ACCOUNT(Region(region.name, region.zone_id_prefix, region.zone_letters[:2]), account_id, stack=stack)

    def call(self, args):
        return self.inner.call(args)

    def new_resource(self, args):
        return self.inner.new_resource(args)


def test_unavailable_zone_stops_the_plan_with_exit_2(tmp_path, monkeypatch):
    from sparkeks.plan import cloud

    monkeypatch.setattr(cloud, "SimulatedAws", _SmallAccount)
    project = make_project(
        tmp_path / "p",
        {
            "s": {
                "aws:region": "us-east-1",
                "spark-on-eks:network": {"zones": ["us-east-1a", "us-east-1c"]},
                PASSWORD_KEY: {"secure": "v1:AAAA"},
            }
        },
    )
    with pytest.raises(PlanError) as err:
        run_plan("s", project)
    assert err.value.lines == [
        'stacks/Pulumi.s.yaml: spark-on-eks:network.zones: ["us-east-1c"]: not available to account 111122223333 '
        "in us-east-1; available there: us-east-1a, us-east-1b"
    ]
    assert err.value.registered == 1  # only the AWS provider, which creates nothing in the account


def test_the_grafana_password_is_required_and_only_as_a_secret():
    with pytest.raises(ConfigError) as missing:
        load_stack_config("s", {"aws:region": "us-east-1"})
    assert missing.value.problems == [
        "stacks/Pulumi.s.yaml: spark-on-eks:grafanaAdminPassword: (missing): is required with observability: "
        "set it with `pulumi config set --secret spark-on-eks:grafanaAdminPassword`"
    ]
    with pytest.raises(ConfigError) as plain:
        load_stack_config("s", {"aws:region": "us-east-1", PASSWORD_KEY: "hunter2"})
    assert plain.value.problems == [
        "stacks/Pulumi.s.yaml: spark-on-eks:grafanaAdminPassword: [not shown]: is a secret and must be stored encrypted: "
        "`pulumi config set --secret spark-on-eks:grafanaAdminPassword`"
    ]
    assert "hunter2" not in str(plain.value)
    assert _load("s", {"aws:region": "us-east-1"}).grafana_admin_password.get_secret_value() == "s3cret"
    assert "s3cret" not in repr(_load("s", {"aws:region": "us-east-1"}))


def test_prod_endpoint_accepts_office_ranges_up_to_one_slash_8_in_total():
    from sparkeks.config.cluster import too_wide_for_prod

    assert too_wide_for_prod(["203.0.113.0/24", "198.51.100.0/24"]) is None
    assert too_wide_for_prod(["52.0.0.0/8"]) is None
    # Overlapping ranges count once: a /8 and a /16 inside it are still one /8.
    assert too_wide_for_prod(["52.0.0.0/8", "52.1.0.0/16"]) is None
    assert too_wide_for_prod(["52.0.0.0/8", "203.0.113.0/24"]) == (
        "prod stacks may not open the API endpoint to more addresses than one /8 (16777216) in total; these CIDRs cover 16777472"
    )
    assert too_wide_for_prod(["50.0.0.0/7"]) == "prod stacks may not open the API endpoint to ranges wider than a /8 (50.0.0.0/7)"


def test_network_policies_are_on_by_default_in_prod_only(tmp_path):
    from sparkeks.config.model import StackConfig

    base = {"region": "us-east-1", "grafana_admin_password": "x" * 16}
    assert StackConfig.model_validate({**base, "environment": "prod"}).network_policies is True
    assert StackConfig.model_validate({**base, "environment": "dev"}).network_policies is False
    assert StackConfig.model_validate({**base, "environment": "prod", "spark": {"network_policies": False}}).network_policies is False
