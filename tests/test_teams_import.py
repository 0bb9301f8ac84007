"""`sparkeks teams import`: YARN CapacityScheduler and Fair Scheduler configs become orgs and teams.

The fixtures in tests/yarn_queues/ are our own files: the Hadoop documentation's queue hierarchy example
(a: a1, a2; b: b1, b2, b3; c) and the capacity-scheduler.xml Hadoop ships, with the same structure, plus
realistic configs (three organisations, nested queues with weights, absolute resources, a stopped queue,
a Fair Scheduler allocation file). Each `.expected` file is the exact output, checked by hand.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from sparkeks.cli import main
from sparkeks.teams.importer import import_queues, total_from
from sparkeks.teams.yarn import APPROXIMATED, NO_EQUIVALENT, ONE_TO_ONE
from tests.conftest import PROJECT_ROOT, stack_config

FIXTURES = Path(__file__).parent / "yarn_queues"

CASES = {
    "three-orgs-five-queues": ["--total-cpu", "4000", "--total-memory", "16000Gi", "--stack", "prod"],
    "hadoop-doc-hierarchy": ["--total-cpu", "1000", "--total-memory", "4000Gi"],
    "hadoop-default": ["--stack", "dev"],
    "nested-and-weights": ["--total-cpu", "1000", "--total-memory", "4000Gi"],
    "absolute-resources": [],
    "stopped-queue": ["--total-cpu", "200", "--total-memory", "800Gi"],
    "fair-scheduler": ["--stack", "prod"],
}


@pytest.fixture(autouse=True)
def _in_project(monkeypatch):
    # The expected outputs name the files relative to the project, as a user in the checkout types them.
    monkeypatch.chdir(PROJECT_ROOT)


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(["teams", "import", *argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("case", sorted(CASES))
def test_import_prints_exactly_the_expected_block_and_report(case, capsys):
    code, out, err = _run(capsys, f"tests/yarn_queues/{case}.xml", *CASES[case])
    assert (code, err) == (0, "")
    assert out == (FIXTURES / f"{case}.expected").read_text()


def _block(case: str) -> dict:
    text = (FIXTURES / f"{case}.expected").read_text()
    return yaml.safe_load(text)


def test_capacity_and_maximum_capacity_compose_down_the_tree():
    block = _block("three-orgs-five-queues")
    teams = {t["name"]: t for t in block["spark-on-eks:teams"]}
    # root.ml is 30% (max 60%) of 4000 cpu; root.ml.adhoc 20% of that, max 50% of ml's max.
    assert teams["adhoc"] == {
        "name": "adhoc",
        "org": "ml",
        "guaranteed": {"cpu": 240, "memory": "960Gi"},
        "max": {"cpu": 1200, "memory": "4800Gi"},
        "limits": {"maxCpu": 8, "maxMemory": "64Gi"},  # maximum-allocation-vcores / -mb
    }
    assert [o["name"] for o in block["spark-on-eks:orgs"]] == ["data", "ml", "finance"]
    assert sum(t["guaranteed"]["cpu"] for t in teams.values()) == 4000


def test_weights_and_deep_queues_round_down_and_flatten():
    teams = {t["name"]: t for t in _block("nested-and-weights")["spark-on-eks:teams"]}
    # eng is 3w of 4w = 75% of 1000; platform 60% of that; etl 75% of platform = 337.5 -> 337 (never more than promised).
    assert teams["etl"]["guaranteed"] == {"cpu": 337, "memory": "1350Gi"}
    assert teams["streaming"]["guaranteed"] == {"cpu": 112, "memory": "450Gi"}
    assert teams["streaming"]["max"] == {"cpu": 500, "memory": "2000Gi"}  # 50% of platform's max, platform's kept in the path
    assert {t["org"] for t in teams.values()} == {"eng", "sales"}


def test_absolute_resources_need_no_total_and_names_become_namespaces():
    teams = {t["name"]: t for t in _block("absolute-resources")["spark-on-eks:teams"]}
    assert teams["adhoc-queries"]["guaranteed"] == {"cpu": 50, "memory": "200Gi"}  # [memory=204800,vcores=50]
    assert teams["dev"] == {"name": "dev", "guaranteed": {"cpu": 50, "memory": "200Gi"}, "max": {"cpu": 100, "memory": "400Gi"}}


def test_a_stopped_queue_is_not_imported_and_says_so():
    result = import_queues(FIXTURES / "stopped-queue.xml", total_from(200, "800Gi"))
    assert [t["name"] for t in result.teams] == ["analytics"]
    stopped = [m for m in result.mappings if m.queue == "root.legacy" and m.kind == NO_EQUIVALENT]
    assert [m.setting for m in stopped] == ["state=STOPPED"]
    acl = next(m for m in result.mappings if m.setting.startswith("acl_submit_applications"))
    assert acl.setting == "acl_submit_applications=' ' (nobody)"


def test_the_report_names_every_queue_path():
    result = import_queues(FIXTURES / "fair-scheduler.xml", total_from(1000, "4000Gi"))
    kinds = {(m.kind, m.queue, m.setting.split("=")[0]) for m in result.mappings}
    assert (ONE_TO_ONE, "root.analytics", "minResources") in kinds
    assert (ONE_TO_ONE, "root.research.notebooks", "maxResources") in kinds
    assert (APPROXIMATED, "root.research.deep_learning", "weight") in kinds
    assert (NO_EQUIVALENT, "root.research.deep_learning", "maxRunningApps") in kinds
    assert (NO_EQUIVALENT, "(scheduler)", "queuePlacementPolicy") in kinds


def test_the_imported_block_validates_and_plans(plan_variant):
    block = _block("three-orgs-five-queues")
    view = plan_variant("prod", orgs=block["spark-on-eks:orgs"], teams=block["spark-on-eks:teams"])
    release = next(r for r in view.of_type("kubernetes:helm.sh/v3:Release") if r["inputs"]["name"] == "yunikorn")
    [root] = yaml.safe_load(release["inputs"]["values"]["yunikornDefaults"]["queues.yaml"])["partitions"][0]["queues"]
    tree = {o["name"]: {t["name"]: t["resources"] for t in o["queues"]} for o in root["queues"]}
    assert {org: sorted(teams) for org, teams in tree.items()} == {
        "data": ["bi", "etl"],
        "ml": ["adhoc", "training"],
        "finance": ["reporting"],
    }
    assert tree["data"]["etl"] == {
        "guaranteed": {"vcore": "1400", "memory": "5600Gi"},
        "max": {"vcore": "3200", "memory": "12800Gi"},
    }
    quota = next(
        r["inputs"]["spec"]["hard"]
        for r in view.plan.resources
        if r["type"] == "kubernetes:core/v1:ResourceQuota" and r["inputs"]["metadata"]["namespace"] == "etl"
    )
    assert (quota["requests.cpu"], quota["requests.memory"]) == ("3200", "12800Gi")


def test_every_expected_block_fits_the_stack_it_names():
    from sparkeks.config.loader import load_stack_config

    for case, args in CASES.items():
        stack = args[args.index("--stack") + 1] if "--stack" in args else "prod"
        raw = {k: v for k, v in stack_config(stack).items() if k not in ("spark-on-eks:orgs", "spark-on-eks:teams")}
        raw.update({k: json.dumps(v) for k, v in _block(case).items()})
        # Every encrypted value of the stack file (the Grafana password, the History Servers' login) as a secret.
        secrets = {k for k, v in raw.items() if isinstance(v, dict) and set(v) == {"secure"}}
        raw = {k: ("x" if k in secrets else v if isinstance(v, str) else json.dumps(v)) for k, v in raw.items()}
        load_stack_config(stack, raw, secrets)


@pytest.mark.parametrize(
    ("case", "args", "lines"),
    [
        (
            "bad-capacities",
            ["--total-cpu", "100", "--total-memory", "400Gi"],
            [
                'tests/yarn_queues/bad-capacities.xml: yarn.scheduler.capacity.root.queues: "a,b": capacities of the children of root add up to 90%, must be 100%'
            ],
        ),
        (
            "bad-unknown-property",
            ["--total-cpu", "100", "--total-memory", "400Gi"],
            [
                'tests/yarn_queues/bad-unknown-property.xml: yarn.scheduler.capacity.root.a.maximum-capacty: "100": unknown property '
                "'maximum-capacty' of queue root.a (not a child queue listed in its .queues, nor a queue setting)",
                'tests/yarn_queues/bad-unknown-property.xml: yarn.scheduler.capacity.root.b.capacity: "10": unknown property '
                "'b.capacity' of queue root (not a child queue listed in its .queues, nor a queue setting)",
            ],
        ),
        (
            "bad-capacity-above-max",
            ["--total-cpu", "100", "--total-memory", "400Gi"],
            [
                'tests/yarn_queues/bad-capacity-above-max.xml: yarn.scheduler.capacity.root.a.capacity: "70": is more than '
                "root.a's maximum-capacity (70 cpu, 280Gi > 50 cpu, 200Gi)"
            ],
        ),
        (
            "bad-not-well-formed",
            [],
            ["tests/yarn_queues/bad-not-well-formed.xml: line 6, column 5: not well-formed XML: mismatched tag"],
        ),
        (
            "bad-entities",
            [],
            ["tests/yarn_queues/bad-entities.xml: line 2: a DOCTYPE or entity declaration: refused (scheduler files need none)"],
        ),
        (
            "bad-external-entity",
            [],
            [
                "tests/yarn_queues/bad-external-entity.xml: line 2: a DOCTYPE or entity declaration: refused (scheduler files need none)"
            ],
        ),
        (
            "three-orgs-five-queues",
            [],
            [
                'tests/yarn_queues/three-orgs-five-queues.xml: yarn.scheduler.capacity.root.queues: "data,ml,finance": capacities are '
                "percentages: give --total-cpu and --total-memory, or --stack, for 100%"
            ],
        ),
        (
            "three-orgs-five-queues",
            ["--total-cpu", "8000", "--total-memory", "32000Gi", "--stack", "prod"],
            [
                "the imported teams do not fit stack prod:",
                'stacks/Pulumi.prod.yaml: spark-on-eks:orgs[0].max: {"cpu": 6400, "memory": "25600Gi"}: is more than the stack\'s '
                "Spark capacity 5512 cpu, 22048Gi (6400 cpu > 5512, 25600Gi > 22048Gi)",
                'stacks/Pulumi.prod.yaml: spark-on-eks:teams[0].max: {"cpu": 6400, "memory": "25600Gi"}: is more than the pools '
                "driver, executor, executorNvme hold (5512 cpu, 22048Gi: karpenter.pools.*.limits)",
                'stacks/Pulumi.prod.yaml: spark-on-eks:orgs: {"data": {"cpu": 4000, "memory": "16000Gi"}, "finance": {"cpu": 1600, '
                '"memory": "6400Gi"}, "ml": {"cpu": 2400, "memor...: over-committed: data (4000 cpu, 16000Gi), ml (2400 cpu, 9600Gi), '
                "finance (1600 cpu, 6400Gi) are guaranteed 8000 cpu, 32000Gi together, more than the stack's Spark capacity "
                "5512 cpu, 22048Gi (karpenter.pools.*.limits)",
            ],
        ),
    ],
    ids=[
        "capacities-not-100",
        "unknown-property",
        "capacity-above-max",
        "malformed",
        "entities",
        "external-entity",
        "no-total",
        "too-big-for-stack",
    ],
)
def test_bad_configs_get_one_line_each_and_exit_2(case, args, lines, capsys):
    code, out, err = _run(capsys, f"tests/yarn_queues/{case}.xml", *args)
    assert (code, out) == (2, "")
    assert err.splitlines() == lines


def test_fair_scheduler_errors_name_the_queue(tmp_path, capsys):
    path = tmp_path / "fair-scheduler.xml"
    path.write_text(
        "<allocations>\n"
        '  <queue name="a"><minResources>lots</minResources><maxRunningApp>3</maxRunningApp></queue>\n'
        "  <queuePlacement/>\n"
        "</allocations>\n"
    )
    code, out, err = _run(capsys, str(path), "--total-cpu", "10", "--total-memory", "40Gi")
    assert code == 2
    assert err.splitlines() == [
        f'{path}: root.a.<maxRunningApp>: "3": unknown queue setting',
        f"{path}: <queuePlacement>: (missing): unknown element of <allocations>",
    ]


def test_cli_arguments_are_checked(capsys):
    assert _run(capsys, "x.xml", "--total-cpu", "10")[2] == "--total-cpu and --total-memory go together: give both or neither\n"
    assert _run(capsys, "x.xml", "--total-cpu", "10", "--total-memory", "10GB")[2] == (
        "--total-memory: 10GB: must be a memory quantity like 4000Gi (Ki, Mi, Gi or Ti)\n"
    )
    assert _run(capsys, "missing.xml")[2] == "missing.xml: cannot read: No such file or directory\n"


def test_the_command_runs_as_a_module():
    result = subprocess.run(
        [sys.executable, "-m", "sparkeks", "teams", "import", "tests/yarn_queues/absolute-resources.xml"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0
    assert result.stdout == (FIXTURES / "absolute-resources.expected").read_text()


@pytest.mark.parametrize("case", ["hadoop-doc-hierarchy", "fair-scheduler"])
def test_the_printed_block_pasted_into_a_stack_file_plans(case, tmp_path):
    """What a user does from a fresh clone: import a real scheduler file against prod, paste the output under
    `config:` of the stack file, plan. Every team's ResourceQuota is then the max printed for it, and its
    YuniKorn queue has the printed guaranteed share."""
    from tests.conftest import make_project

    imported = subprocess.run(
        [sys.executable, "-m", "sparkeks", "teams", "import", str(FIXTURES / f"{case}.xml"), "--stack", "prod"],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
    )
    assert (imported.returncode, imported.stderr) == (0, "")
    printed = yaml.safe_load(imported.stdout)
    config = {k: v for k, v in stack_config("prod").items() if k not in ("spark-on-eks:orgs", "spark-on-eks:teams")}
    project = make_project(tmp_path / "project", {"prod": config})
    stack_file = project / "stacks" / "Pulumi.prod.yaml"
    pasted = "".join(f"  {line}\n" if line else "\n" for line in imported.stdout.splitlines())
    stack_file.write_text(stack_file.read_text() + pasted)

    out = tmp_path / "plan"
    planned = subprocess.run(
        [sys.executable, "-m", "sparkeks", "plan", "prod", "--project-dir", str(project), "--out", str(out), "-q"],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
    )
    assert planned.returncode == 0, planned.stderr
    teams = printed["spark-on-eks:teams"]
    for team in teams:
        quota = yaml.safe_load((out / "manifests" / f"resourcequota.{team['name']}.spark-team.yaml").read_text())["spec"]["hard"]
        assert (quota["requests.cpu"], quota["requests.memory"]) == (str(team["max"]["cpu"]), team["max"]["memory"]), team["name"]
    values = yaml.safe_load((out / "helm" / "yunikorn.yaml").read_text())["values"]
    [root] = yaml.safe_load(values["yunikornDefaults"]["queues.yaml"])["partitions"][0]["queues"]
    leaves = {}
    for queue in root["queues"]:
        for leaf in queue.get("queues", [queue]):
            leaves[leaf["name"]] = leaf["resources"].get("guaranteed")
    assert leaves == {
        t["name"]: {"vcore": str(t["guaranteed"]["cpu"]), "memory": t["guaranteed"]["memory"]} if "guaranteed" in t else None
        for t in teams
    }
