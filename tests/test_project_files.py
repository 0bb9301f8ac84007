"""Project files (helm-values/, dashboards/, images/) come from the project being planned, not from beside the code.

Each project here has its own copies of those files, so an edit shows whether the program read them from
the project or from the checkout; a missing one is one line naming it and the project, and nothing is planned.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from sparkeks import daemonsets, images
from sparkeks.cli import main
from sparkeks.plan.runner import PlanError, run_plan
from sparkeks.project import project_at
from tests.conftest import CELEBORN_SHUFFLE, PROJECT_ROOT, built_image_pins, make_project, stack_config, with_overrides

OWN_COPIES = ("helm-values", "dashboards", "images")


def own_project(root: Path, stack: str = "prod") -> Path:
    """A project sharing the code with the checkout but holding its own copies of the project files."""
    project = make_project(root, {stack: stack_config(stack)})
    for entry in OWN_COPIES:
        (project / entry).unlink()
        shutil.copytree(PROJECT_ROOT / entry, project / entry)
    return project


def _missing(project: Path, relative: str) -> str:
    return f"{relative}: not found in project dir {project} (expected beside Pulumi.yaml)"


def _helm_values(plan, release: str) -> dict:
    [found] = [r for r in plan.resources if r["type"] == "kubernetes:helm.sh/v3:Release" and r["inputs"]["name"] == release]
    return found["inputs"]["values"]


def test_the_plan_reads_helm_values_and_dashboards_of_its_project(tmp_path):
    project = own_project(tmp_path / "project")
    values = project / "helm-values" / "yunikorn.yaml"
    values.write_text(values.read_text().replace("  replicaCount: 1\n", "  replicaCount: 2\n", 1))
    (project / "dashboards" / "team-cost.json").unlink()
    plan = run_plan("prod", project)
    assert _helm_values(plan, "yunikorn")["admissionController"]["replicaCount"] == 2
    dashboards = sorted(r["inputs"]["metadata"]["name"] for r in plan.resources if r["inputs"].get("metadata", {}).get("name", "").startswith("dashboard-"))
    assert dashboards == [f"dashboard-{p.stem}" for p in sorted((PROJECT_ROOT / "dashboards").glob("*.json")) if p.stem != "team-cost"]


def test_daemonset_overhead_follows_the_projects_fluent_bit_values(tmp_path):
    project = own_project(tmp_path / "project")
    values = project / "helm-values" / "fluent-bit.yaml"
    values.write_text(values.read_text().replace("    cpu: 50m\n    memory: 64Mi\n", "    cpu: 150m\n    memory: 192Mi\n", 1))
    shipped = daemonsets.overhead()
    with project_at(project):
        edited = daemonsets.overhead()
    assert (edited[0] - shipped[0], edited[1] - shipped[1], edited[2] - shipped[2]) == (100, 128, 0)


def test_image_pins_are_the_projects(tmp_path, monkeypatch):
    monkeypatch.delenv(images.PINS_ENV)
    project = own_project(tmp_path / "project")
    images.write_pins(built_image_pins(), project / "images" / "pins.json")
    with project_at(project):
        assert images.pins_path() == project / "images" / "pins.json"
        image = images.platform_image("4.1", account_id="111122223333", region="us-east-1", cluster_name="c")
    assert image == f"111122223333.dkr.ecr.us-east-1.amazonaws.com/c/spark-4.1@{built_image_pins()['4.1'].image_digest}"


def test_missing_project_files_are_one_line_each_before_anything_is_registered(tmp_path):
    project = own_project(tmp_path / "project")
    (project / "helm-values" / "yunikorn.yaml").unlink()
    shutil.rmtree(project / "dashboards")
    with pytest.raises(PlanError) as raised:
        run_plan("prod", project)
    assert raised.value.lines == [_missing(project, "dashboards/"), _missing(project, "helm-values/yunikorn.yaml")]
    assert (raised.value.exit_code, raised.value.registered) == (2, 0)


def test_a_command_validating_config_names_the_missing_file(tmp_path, capsys):
    project = own_project(tmp_path / "project")
    (project / "helm-values" / "fluent-bit.yaml").unlink()
    assert main(["teams", "report", "prod", "--project", str(project)]) == 2
    captured = capsys.readouterr()
    assert (captured.out, captured.err) == ("", f"sparkeks teams: {_missing(project, 'helm-values/fluent-bit.yaml')}\n")


def test_the_plan_cli_names_the_missing_file(tmp_path, capsys):
    project = own_project(tmp_path / "project")
    (project / "images" / "pins.json").unlink()
    assert main(["plan", "prod", "--project", str(project), "--out", str(tmp_path / "out"), "-q"]) == 2
    assert capsys.readouterr().err == _missing(project, "images/pins.json") + "\n"


def _without(project: Path, *relatives: str) -> Path:
    for relative in relatives:
        path = project / relative
        shutil.rmtree(path) if path.is_dir() else path.unlink()
    return project


def _releases(plan) -> list[str]:
    return sorted(r["inputs"]["name"] for r in plan.resources if r["type"] == "kubernetes:helm.sh/v3:Release")


def _variant_project(root: Path, config: dict) -> Path:
    """A project of its own with `config` as prod (own copies of the project files, built image pins)."""
    project = make_project(root, {"prod": config})
    for entry in OWN_COPIES:
        (project / entry).unlink()
        shutil.copytree(PROJECT_ROOT / entry, project / entry)
    images.write_pins(built_image_pins(), project / "images" / "pins.json")
    return project


def test_a_stack_without_celeborn_needs_no_celeborn_values(tmp_path):
    project = _without(own_project(tmp_path / "project"), "helm-values/celeborn.yaml")
    assert _releases(run_plan("prod", project)) == [
        "fluent-bit", "karpenter", "karpenter-crd", "kube-prometheus-stack", "loki", "opencost", "spark-operator", "yunikorn"
    ]


def _no_observability(config: dict) -> dict:
    config = with_overrides(config, observability={"enabled": False})
    del config["spark-on-eks:grafanaAdminPassword"]
    return config


def test_a_stack_without_observability_needs_none_of_its_files(tmp_path, capsys):
    """Through the command: the plan, its summary and its cost estimate (which sizes Celeborn's workers
    after the node's DaemonSets) read none of the monitoring stack's files."""
    config = with_overrides(_no_observability(stack_config("prod")), spark=CELEBORN_SHUFFLE)
    project = _variant_project(tmp_path / "project", config)
    _without(project, "helm-values/kube-prometheus-stack.yaml", "helm-values/loki.yaml", "helm-values/fluent-bit.yaml", "helm-values/opencost.yaml", "dashboards/")
    assert main(["plan", "prod", "--project", str(project), "--out", str(tmp_path / "out"), "-q"]) == 0, capsys.readouterr().err
    assert "Celeborn" in (tmp_path / "out" / "cost.md").read_text()
    assert _releases(run_plan("prod", project)) == ["celeborn", "karpenter", "karpenter-crd", "spark-operator", "yunikorn"]


def test_celeborn_on_needs_its_values_one_line(tmp_path):
    project = _variant_project(tmp_path / "project", with_overrides(stack_config("prod"), spark=CELEBORN_SHUFFLE))
    _without(project, "helm-values/celeborn.yaml", "helm-values/opencost.yaml")
    with pytest.raises(PlanError) as raised:
        run_plan("prod", project)
    assert raised.value.lines == [_missing(project, "helm-values/celeborn.yaml"), _missing(project, "helm-values/opencost.yaml")]
    assert (raised.value.exit_code, raised.value.registered) == (2, 0)


def _no_yunikorn(config: dict) -> dict:
    teams = [{k: v for k, v in team.items() if k != "guaranteed"} for team in config["spark-on-eks:teams"]]
    return {**with_overrides(config, spark={"batchScheduler": "none"}), "spark-on-eks:teams": teams}


VARIANTS = {
    "prod": lambda c: c,
    "celeborn": lambda c: with_overrides(c, spark=CELEBORN_SHUFFLE),
    "celeborn-no-observability": lambda c: with_overrides(_no_observability(c), spark=CELEBORN_SHUFFLE),
    "no-opencost": lambda c: with_overrides(c, cost={"opencost": False}),
    "no-yunikorn": _no_yunikorn,
    "no-history-server": lambda c: with_overrides(c, historyServer={"enabled": False}),
}


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_the_program_requires_exactly_the_files_it_reads(variant, tmp_path, monkeypatch):
    """The up-front check and the components agree: a file the check requires is read, a file read is required."""
    from sparkeks import project as project_module
    from sparkeks.config.loader import load_stack_config
    from sparkeks.deployed import program_files
    from sparkeks.plan.runner import read_stack

    monkeypatch.delenv(images.PINS_ENV)
    project = _variant_project(tmp_path / "project", VARIANTS[variant](stack_config("prod")))
    read: set[str] = set()
    real_in = project_module._in

    def recording(root: Path, relative: str) -> Path:
        read.add(relative)
        return real_in(root, relative)

    monkeypatch.setattr(project_module, "_in", recording)
    run_plan("prod", project)
    stack_input = read_stack("prod", project)
    with project_at(project):
        required = program_files(load_stack_config("prod", stack_input.config, stack_input.secret_keys))
    assert sorted(read) == required
    assert "helm-values/karpenter.yaml" in required and len(required) >= 2
