"""Realistic input mistakes give one line per problem and exit 2, never a traceback (issue 17)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from components.spark.teams import limit_range
from sparkeks.config.loader import ConfigError, load_stack_config
from sparkeks.teams.queues import Amount, queue_tree
from tests.conftest import PROJECT_ROOT, make_project

PASSWORD_KEY = "spark-on-eks:grafanaAdminPassword"


def _load(raw: dict, stack: str = "s"):
    return load_stack_config(stack, {PASSWORD_KEY: "s3cret", "aws:region": "us-east-1", **raw}, {PASSWORD_KEY})


def _problems(raw: dict, stack: str = "s") -> list[str]:
    with pytest.raises(ConfigError) as err:
        _load(raw, stack)
    return err.value.problems


def _plan_cli(project: Path, stack: str, tmp_path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "sparkeks", "plan", stack, "--project-dir", str(project), "--out", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
    )


# --- 1. a stack file whose top level is not a mapping


@pytest.mark.parametrize(
    "text, found",
    [("- a\n- b\n", "a list"), ("just words\n", "a string"), ("42\n", "a number")],
)
def test_a_stack_file_that_is_not_a_mapping_is_one_line(tmp_path, text, found):
    project = make_project(tmp_path / "p", {})
    (project / "stacks" / "Pulumi.x.yaml").write_text(text)
    result = _plan_cli(project, "x", tmp_path)
    assert result.returncode == 2, result.stderr
    assert result.stderr.splitlines() == [
        f"stacks/Pulumi.x.yaml: (top level): {found}: must be a mapping with a `config:` key, "
        "like `config: {aws:region: us-east-1}`"
    ]
    assert not (tmp_path / "out").exists()


# --- 2. sizes are checked in the form their consumer takes: the History Server heap becomes -Xmx


@pytest.mark.parametrize("written, normalised", [("2gb", "2g"), ("2 GB", "2g"), ("1536MB", "1536m"), ("3072m", "3g")])
def test_history_server_heap_is_normalised_to_a_jvm_flag(written, normalised):
    assert _load({"spark-on-eks:historyServer": f'{{"heap": "{written}"}}'}).history_server.heap == normalised


@pytest.mark.parametrize(
    "written, reason",
    [
        ("2048", "has no unit, and the JVM would read it as bytes (-Xmx2048); write 2048m or 2g"),
        ("2.5g", "is not a JVM heap size; use a whole number with m or g, like 2g or 1536m"),
        ("256m", "is below the 512m a History Server needs"),
    ],
)
def test_history_server_heaps_the_jvm_cannot_take_are_refused(written, reason):
    assert _problems({"spark-on-eks:historyServer": f'{{"heap": "{written}"}}'}) == [
        f'stacks/Pulumi.s.yaml: spark-on-eks:historyServer.heap: "{written}": {reason}'
    ]


# --- 3. defaults follow the user's own values; every independent problem in one run


def _team(name: str, **fields) -> dict:
    return {"name": name, **fields}


def _limits(config, name: str) -> list[dict]:
    return limit_range(config.teams[0], queue_tree(config).team(name))["spec"]["limits"]


def test_a_small_max_gets_limits_that_fit_it_not_a_refusal():
    config = _load({"spark-on-eks:teams": json.dumps([_team("tiny", max={"cpu": 1, "memory": "1Gi"})])})
    assert _limits(config, "tiny") == [
        {
            "type": "Container",
            "defaultRequest": {"cpu": "1", "memory": "1Gi"},
            "default": {"memory": "1Gi"},
            "max": {"cpu": "1", "memory": "1Gi"},
        }
    ]


def test_limits_follow_the_largest_node_a_team_gets_by_default_from_its_pools():
    """No max written: the team's max is what its pools hold, and its containers are as large as the largest
    node those pools can launch holds: c6a.4xlarge (16 vCPUs, 32 GiB; the executor limits keep out the
    64 GiB 4xlarges) leaves 27181Mi for a pod after the system reserve and the DaemonSets."""
    pools = {
        "driver": {"limits": {"cpu": 16, "memory": "32Gi"}, "instanceCpus": [4, 8]},
        "executor": {"limits": {"cpu": 16, "memory": "48Gi"}},
    }
    config = _load(
        {
            "spark-on-eks:karpenter": json.dumps({"pools": pools}),
            "spark-on-eks:teams": json.dumps([_team("small", pools=["driver", "executor"])]),
        }
    )
    assert queue_tree(config).team("small").max == Amount(32, 80 * 1024)
    assert _limits(config, "small")[0]["max"] == {"cpu": "16", "memory": "27181Mi"}
    assert _problems(
        {
            "spark-on-eks:karpenter": json.dumps({"pools": pools}),
            "spark-on-eks:teams": json.dumps([_team("small", pools=["driver", "executor"], limits={"maxMemory": "128Gi"})]),
        }
    ) == ['stacks/Pulumi.s.yaml: spark-on-eks:teams[0].limits.maxMemory: "128Gi": is larger than the team\'s max memory 80Gi']


def test_limits_the_user_wrote_are_kept_and_checked_against_the_max():
    config = _load({"spark-on-eks:teams": json.dumps([_team("etl", max={"cpu": 64, "memory": "256Gi"}, limits={"maxCpu": 16})])})
    # maxMemory is not written: what the largest node of its pools (r6a.8xlarge) leaves for a pod, below its max.
    assert _limits(config, "etl")[0]["max"] == {"cpu": "16", "memory": "239354Mi"}
    assert _problems({"spark-on-eks:teams": json.dumps([_team("etl", max={"cpu": 8, "memory": "32Gi"}, limits={"maxCpu": 16})])}) == [
        "stacks/Pulumi.s.yaml: spark-on-eks:teams[0].limits.maxCpu: 16: is larger than the team's max cpu 8"
    ]


def test_a_default_request_above_a_written_maximum_names_where_the_maximum_came_from():
    team = _team("etl", max={"cpu": 2, "memory": "8Gi"}, limits={"defaultCpu": "4"})
    assert _problems({"spark-on-eks:teams": json.dumps([team])}) == [
        'stacks/Pulumi.s.yaml: spark-on-eks:teams[0].limits.defaultCpu: "4": is larger than limits.maxCpu 2: not set in this file, '
        "so the team's max cpu"
    ]


def test_a_written_default_request_above_the_largest_nodes_vcpus_is_refused_even_under_a_written_max():
    """maxCpu unset defaults to the largest node the team's pools launch (4 vCPUs on a 4-vCPU driver pool),
    below its written max: a default request of 8 would make a LimitRange the API server refuses."""
    pools = {"driver": {"limits": {"cpu": 64, "memory": "256Gi"}, "instanceCpus": [4]}}
    team = _team("etl", pools=["driver"], max={"cpu": 64, "memory": "256Gi"}, limits={"defaultCpu": "8"})
    assert _problems({"spark-on-eks:karpenter": json.dumps({"pools": pools}), "spark-on-eks:teams": json.dumps([team])}) == [
        'stacks/Pulumi.s.yaml: spark-on-eks:teams[0].limits.defaultCpu: "8": is larger than limits.maxCpu 4: not set in this '
        "file, so the vCPUs of m6a.xlarge, the largest node its pools can launch"
    ]


def test_a_duplicate_team_is_reported_with_a_small_max_team():
    teams = [_team("tiny", max={"cpu": 1, "memory": "4Gi"}), _team("tiny", max={"cpu": 1, "memory": "4Gi"})]
    assert _problems({"spark-on-eks:teams": json.dumps(teams)}) == [
        'stacks/Pulumi.s.yaml: spark-on-eks:teams: ["tiny", "tiny"]: team \'tiny\' is declared twice'
    ]


def test_every_independent_problem_of_a_file_is_reported_at_once():
    teams = [
        _team("analytics", max={"cpu": 8, "memory": "32Gi"}, limits={"maxCpu": 16}),
        _team("analytics", max={"cpu": 8, "memory": "32Gi"}),
        _team("ml", max={"cpu": "lots", "memory": "32Gi"}),
    ]
    problems = _problems(
        {
            "spark-on-eks:teams": json.dumps(teams),
            "spark-on-eks:network": '{"natStrategy": "perzone"}',
            "spark-on-eks:environment": "prod",
            "spark-on-eks:spark": '{"forceDestroyBuckets": true}',
        }
    )
    assert sorted(problems) == sorted(
        [
            'stacks/Pulumi.s.yaml: spark-on-eks:teams: ["analytics", "analytics", "ml"]: team \'analytics\' is declared twice',
            "stacks/Pulumi.s.yaml: spark-on-eks:teams[0].limits.maxCpu: 16: is larger than the team's max cpu 8",
            'stacks/Pulumi.s.yaml: spark-on-eks:teams[2].max.cpu: "lots": must be a whole number',
            "stacks/Pulumi.s.yaml: spark-on-eks:network.natStrategy: \"perzone\": must be one of 'perZone', 'single' or 'none'",
            "stacks/Pulumi.s.yaml: spark-on-eks:spark.forceDestroyBuckets: true: prod never lets `pulumi destroy` delete bucket contents",
        ]
    )


# --- the README's examples of input errors are what the code prints

_DUPLICATE_TEAMS = """config:
  aws:region: us-east-1
  spark-on-eks:teams:
    - {name: analytics, max: {cpu: 64, memory: 256Gi}}
  spark-on-eks:teams:
    - {name: ml, max: {cpu: 64, memory: 256Gi}}
"""


def _plan_lines(tmp_path: Path, text: str) -> list[str]:
    from sparkeks.plan.runner import PlanError, read_stack

    project = make_project(tmp_path / "p", {})
    (project / "stacks" / "Pulumi.dev.yaml").write_text(text)
    try:
        stack = read_stack("dev", project)
        load_stack_config("dev", {PASSWORD_KEY: "x", **stack.config}, {PASSWORD_KEY})
    except PlanError as err:
        return err.lines
    except ConfigError as err:
        return err.problems
    return []


@pytest.mark.parametrize(
    "text",
    [
        "- config\n",
        _DUPLICATE_TEAMS,
        "config:\n  aws:region: us-east-1\n  spark-on-ek:environment: prod\n",
        "config:\n  aws:region: us-east-1\n  spark-on-eks:historyServer: {heap: '2048'}\n",
        "config:\n  aws:region: us-east-1\n  spark-on-eks:teams: [{name: analytics, max: {cpu: 64, memory: 512GB}}]\n",
    ],
)
def test_the_readme_shows_the_lines_the_code_prints(tmp_path, text):
    readme = (PROJECT_ROOT / "README.md").read_text()
    block = readme.split("### What input errors look like", 1)[1].split("```", 2)[1]
    lines = _plan_lines(tmp_path, text)
    assert len(lines) == 1
    assert lines[0] in block.splitlines()
