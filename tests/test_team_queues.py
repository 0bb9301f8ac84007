"""Elastic team queues: YuniKorn's queue tree, preemption, drivers kept, quotas as ceilings, and the checks."""

from __future__ import annotations

import pytest
import yaml

from sparkeks.config.loader import ConfigError, load_stack_config
from sparkeks.plan.writer import HELM_RELEASE
from sparkeks.teams.queues import Amount, queue_problems, queue_tree
from tests.conftest import stack_config

PASSWORD = "spark-on-eks:grafanaAdminPassword"


def _release(view, name):
    return next(r for r in view.of_type(HELM_RELEASE) if r["inputs"]["name"] == name)


def _manifest(view, kind, name, namespace=None):
    [found] = [
        r
        for r in view.plan.resources
        if r["type"].endswith(f":{kind}")
        and r["inputs"].get("metadata", {}).get("name") == name
        and r["inputs"]["metadata"].get("namespace") == namespace
    ]
    return found


def _config(base="prod", **sections):
    # Every encrypted value of the stack file (the Grafana password, the History Servers' login) as a secret.
    secrets = {k for k, v in stack_config(base).items() if isinstance(v, dict) and set(v) == {"secure"}} | {PASSWORD}
    raw = {k: ("x" if k in secrets else v) for k, v in stack_config(base).items()}
    for section, value in sections.items():
        raw[f"spark-on-eks:{section}"] = value
    return load_stack_config(base, {PASSWORD: "x", **raw}, secrets)


def _problems(base="prod", **sections):
    with pytest.raises(ConfigError) as err:
        _config(base, **sections)
    return err.value.problems


def test_prod_runs_yunikorn_1_10_with_the_queue_tree(prod):
    release = _release(prod, "yunikorn")["inputs"]
    assert (release["chart"], release["version"], release["repositoryOpts"]["repo"]) == (
        "yunikorn",
        "1.10.0",
        "https://apache.github.io/yunikorn-release",
    )
    values = release["values"]
    assert (values["image"]["tag"], values["admissionController"]["image"]["tag"], values["web"]["image"]["tag"]) == (
        "scheduler-1.10.0",
        "admission-1.10.0",
        "web-1.10.0",
    )
    assert values["yunikornDefaults"]["admissionController.filtering.processNamespaces"] == "^(analytics|ml-platform)$"
    [partition] = yaml.safe_load(values["yunikornDefaults"]["queues.yaml"])["partitions"]
    assert partition["preemption"] == {"enabled": True}
    # Placement by namespace only (a job cannot name another team's queue); org teams under their parent.
    assert partition["placementrules"] == [
        {
            "name": "tag",
            "value": "namespace",
            "create": False,
            "parent": {"name": "tag", "value": "namespace.parentqueue", "create": False},
        },
        {"name": "tag", "value": "namespace", "create": False},
    ]
    [root] = partition["queues"]
    assert (root["name"], "resources" in root) == ("root", False)
    data, ml = root["queues"]
    leaf_properties = {"application.sort.policy": "fifo", "preemption.delay": "2m"}
    assert data == {
        "name": "data",
        "parent": True,
        "submitacl": "*",
        "resources": {"guaranteed": {"vcore": "2400", "memory": "9600Gi"}, "max": {"vcore": "5512", "memory": "22048Gi"}},
        "queues": [
            {
                "name": "analytics",
                "submitacl": "*",
                "resources": {"guaranteed": {"vcore": "1600", "memory": "6400Gi"}, "max": {"vcore": "5512", "memory": "22048Gi"}},
                "properties": leaf_properties,
            }
        ],
    }
    assert ml == {
        "name": "ml-platform",
        "submitacl": "*",
        "resources": {"guaranteed": {"vcore": "1200", "memory": "4800Gi"}, "max": {"vcore": "2400", "memory": "9600Gi"}},
        "properties": leaf_properties,
    }


def test_org_teams_name_their_parent_queue_on_the_namespace(prod):
    annotations = {
        team: _manifest(prod, "Namespace", team)["inputs"]["metadata"]["annotations"] for team in ("analytics", "ml-platform")
    }
    assert annotations["analytics"]["yunikorn.apache.org/parentqueue"] == "root.data"
    assert "yunikorn.apache.org/parentqueue" not in annotations["ml-platform"]


def test_drivers_opt_out_of_preemption_and_executors_may_reclaim(prod):
    driver = _manifest(prod, "PriorityClass", "spark-driver")
    executor = _manifest(prod, "PriorityClass", "spark-executor")
    assert driver["inputs"]["metadata"]["annotations"] == {"yunikorn.apache.org/allow-preemption": "false"}
    assert (driver["inputs"]["value"], executor["inputs"]["value"]) == (100000, 10000)
    # YuniKorn lets a pod preempt only when its preemptionPolicy allows it: executors take guarantees back.
    assert executor["inputs"]["preemptionPolicy"] == "PreemptLowerPriority"
    assert "annotations" not in executor["inputs"]["metadata"]
    for pc in (driver, executor):
        assert pc["options"]["replaceOnChanges"] == ["preemptionPolicy", "value"]
        assert pc["options"]["deleteBeforeReplace"] is True


def test_without_yunikorn_quotas_are_hard_and_nothing_borrows(plan_variant):
    teams = [{"name": "analytics", "max": {"cpu": 128, "memory": "512Gi"}, "pods": 400}]
    view = plan_variant("dev", spark={"batchScheduler": "none"}, teams=teams)
    assert [r for r in view.of_type(HELM_RELEASE) if r["inputs"]["name"] == "yunikorn"] == []
    quota = _manifest(view, "ResourceQuota", "spark-team", "analytics")["inputs"]["spec"]["hard"]
    assert quota == {"requests.cpu": "128", "requests.memory": "512Gi", "limits.memory": "512Gi", "pods": "400"}
    executor = _manifest(view, "PriorityClass", "spark-executor")["inputs"]
    assert executor["preemptionPolicy"] == "Never"
    assert "annotations" not in _manifest(view, "PriorityClass", "spark-driver")["inputs"]["metadata"]
    assert "batchScheduler" not in _release(view, "spark-operator")["inputs"]["values"]["controller"]


def test_dev_defaults_to_yunikorn_and_quota_equals_max(dev):
    assert _release(dev, "spark-operator")["inputs"]["values"]["controller"]["batchScheduler"] == {
        "enable": True,
        "default": "yunikorn",
    }
    quota = _manifest(dev, "ResourceQuota", "spark-team", "analytics")["inputs"]["spec"]["hard"]
    assert quota == {"requests.cpu": "256", "requests.memory": "1024Gi", "limits.memory": "1024Gi", "pods": "400"}


def test_default_max_is_the_capacity_of_the_teams_pools_within_its_org():
    config = _config(
        orgs=[{"name": "data", "max": {"cpu": 3000, "memory": "12000Gi"}}],
        teams=[
            {"name": "etl", "org": "data"},
            {"name": "bi", "pools": ["driver", "executor"]},
            {"name": "adhoc", "pools": ["driver"]},
        ],
    )
    tree = queue_tree(config)
    assert tree.capacity == Amount(5512, 22048 * 1024)
    assert tree.team("etl").max == Amount(3000, 12000 * 1024)  # the org's max, below the 5512 of its pools
    assert tree.team("bi").max == Amount(4512, 18048 * 1024)  # driver + executor
    assert tree.team("adhoc").max == Amount(512, 2048 * 1024)
    assert [t.path for t in tree.teams] == ["root.data.etl", "root.bi", "root.adhoc"]


def test_overcommit_is_found_for_teams_confined_to_a_pool():
    # Two driver-only teams promise more than the 512-cpu driver pool, although the stack has 5512.
    problems = _problems(
        orgs=[],
        teams=[
            {"name": "aa", "pools": ["driver"], "guaranteed": {"cpu": 300, "memory": "100Gi"}},
            {"name": "bb", "pools": ["driver"], "guaranteed": {"cpu": 300, "memory": "100Gi"}},
        ],
    )
    assert problems == [
        'stacks/Pulumi.prod.yaml: spark-on-eks:teams: {"aa": {"cpu": 300, "memory": "100Gi"}, "bb": {"cpu": 300, "memory": "100Gi"}}: '
        "over-committed: teams aa (300 cpu, 100Gi), bb (300 cpu, 100Gi) are guaranteed 600 cpu, 200Gi together, more than the pools "
        "driver hold (512 cpu, 2048Gi: karpenter.pools.*.limits)"
    ]


def test_orgs_together_cannot_promise_more_than_the_stack():
    problems = _problems(
        orgs=[
            {"name": "data", "guaranteed": {"cpu": 4000, "memory": "100Gi"}},
            {"name": "web", "guaranteed": {"cpu": 2000, "memory": "100Gi"}},
        ],
        teams=[{"name": "etl", "org": "data"}, {"name": "shop", "org": "web"}],
    )
    assert problems == [
        'stacks/Pulumi.prod.yaml: spark-on-eks:orgs: {"data": {"cpu": 4000, "memory": "100Gi"}, "web": {"cpu": 2000, "memory": "100Gi"}}: '
        "over-committed: data (4000 cpu, 100Gi), web (2000 cpu, 100Gi) are guaranteed 6000 cpu, 200Gi together, more than the "
        "stack's Spark capacity 5512 cpu, 22048Gi (karpenter.pools.*.limits)"
    ]


@pytest.mark.parametrize(
    ("sections", "line"),
    [
        (
            {
                "orgs": [{"name": "data", "max": {"cpu": 100, "memory": "400Gi"}}],
                "teams": [{"name": "etl", "org": "data", "max": {"cpu": 200, "memory": "400Gi"}}],
            },
            'spark-on-eks:teams[0].max: {"cpu": 200, "memory": "400Gi"}: is more than organisation data\'s max (200 cpu > 100)',
        ),
        (
            {"orgs": [{"name": "etl"}], "teams": [{"name": "etl", "org": "etl"}]},
            'spark-on-eks:orgs[0].name: "etl": is also a team\'s name; queue names must be unique under root',
        ),
        (
            {"orgs": [{"name": "data", "max": {"cpu": 6000, "memory": "400Gi"}}], "teams": [{"name": "etl", "org": "data"}]},
            'spark-on-eks:orgs[0].max: {"cpu": 6000, "memory": "400Gi"}: is more than the stack\'s Spark capacity 5512 cpu, 22048Gi (6000 cpu > 5512)',
        ),
        (
            {
                "orgs": [{"name": "data", "max": {"cpu": 100, "memory": "400Gi"}}],
                "teams": [
                    {
                        "name": "etl",
                        "org": "data",
                        "max": {"cpu": 100, "memory": "400Gi"},
                        "guaranteed": {"cpu": 60, "memory": "10Gi"},
                    },
                    {
                        "name": "bi",
                        "org": "data",
                        "max": {"cpu": 100, "memory": "400Gi"},
                        "guaranteed": {"cpu": 60, "memory": "10Gi"},
                    },
                ],
            },
            'spark-on-eks:orgs[0].max: {"cpu": 100, "memory": "400Gi"}: over-committed: teams etl (60 cpu, 10Gi), bi (60 cpu, 10Gi) are '
            "guaranteed 120 cpu, 20Gi, more than organisation data's max (120 cpu > 100)",
        ),
    ],
    ids=["team-above-org-max", "org-named-like-a-team", "org-above-stack", "org-max-overcommitted"],
)
def test_queue_tree_errors_are_one_line_naming_the_queue(sections, line):
    assert _problems(**sections) == [f"stacks/Pulumi.prod.yaml: {line}"]


def test_the_shipped_stacks_have_no_queue_problems():
    for stack in ("dev", "staging", "prod"):
        assert queue_problems(_config(stack)) == []


def test_teams_report_prod_is_a_markdown_table(capsys):
    from sparkeks.cli import main

    assert main(["teams", "report", "prod"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[4:10] == [
        "| queue | guaranteed | max (ResourceQuota for a team) | bursts to when others are idle | pools |",
        "|---|---|---|---|---|",
        "| `root.data` (organisation) | 2400 cpu, 9600Gi (44% cpu, 44% memory) | 5512 cpu, 22048Gi (default) | 5512 cpu, 22048Gi |  |",
        "| `root.data.analytics` | 1600 cpu, 6400Gi (29% cpu, 29% memory) | 5512 cpu, 22048Gi (default) | 5512 cpu, 22048Gi | driver, executor, executorNvme |",
        "| `root.ml-platform` | 1200 cpu, 4800Gi (22% cpu, 22% memory) | 2400 cpu, 9600Gi | 2400 cpu, 9600Gi | driver, executor |",
        "",
    ]
    assert "Guaranteed in total: 3600 cpu, 14400Gi (65% cpu, 65% memory) of the Spark capacity" in out
    assert out.endswith(
        "Warnings:\n- root.data guarantees 800 cpu, 3200Gi more than its teams do: whichever of its teams is busy gets it first\n"
    )


def test_teams_report_warns_about_tight_guarantees_and_hard_quotas():
    from sparkeks.teams.report import markdown_report

    tight = _config(
        orgs=[],
        teams=[
            {"name": "etl", "guaranteed": {"cpu": 5000, "memory": "20000Gi"}},
            {"name": "adhoc", "pools": ["driver", "executor"]},
        ],
    )
    text = markdown_report("prod", tight)
    assert (
        "- guaranteed shares take 5000 cpu, 20000Gi (91% cpu, 91% memory) of the Spark capacity: little is left to lend without preemption"
        in text
    )
    assert "- root.adhoc has no guaranteed share: it runs only on idle capacity and its executors are the first preempted" in text
    lonely = _config(orgs=[{"name": "data", "guaranteed": {"cpu": 100, "memory": "400Gi"}}], teams=[{"name": "etl"}])
    assert "- root.data has no teams: its guaranteed share is promised to nobody" in markdown_report("prod", lonely)
    hard = _config(
        "dev",
        spark={"batchScheduler": "none"},
        teams=[{"name": "a1", "max": {"cpu": 300, "memory": "1000Gi"}}, {"name": "b1", "max": {"cpu": 300, "memory": "1000Gi"}}],
    )
    text = markdown_report("dev", hard)
    assert "Scheduler: none: hard quotas, no borrowing." in text
    assert (
        "- hard quotas add up to 600 cpu, 2000Gi, more than the Spark capacity 352 cpu, 1408Gi: the first teams to start can leave the others nothing"
        in text
    )
    assert "| `root.a1` | none | 300 cpu, 1000Gi | 300 cpu, 1000Gi | driver, executor, executorNvme |" in text


def test_teams_report_of_an_invalid_stack_exits_2(capsys):
    from sparkeks.cli import main

    assert main(["teams", "report", "nope"]) == 2
    assert capsys.readouterr().err.startswith("stacks/Pulumi.nope.yaml: no such stack file; stacks: ")


def test_the_plan_summary_shows_the_elastic_queues_a_preview_changes(prod):
    from sparkeks.plan.writer import summary_of
    from sparkeks.teams.report import markdown_report

    summary = summary_of(prod.plan)
    section = "## Team queues: prod\n" + summary.split("## Team queues: prod\n", 1)[1].split("\n## ", 1)[0]
    assert section == markdown_report("prod", prod.plan.config)
    assert section.splitlines()[2] == (
        "Scheduler: YuniKorn: elastic queues; a team below its guaranteed share gets it back by preemption after 2m. "
        "Spark capacity: 5512 cpu, 22048Gi (driver 512 cpu, 2048Gi; executor 4000 cpu, 16000Gi; executorNvme 1000 cpu, 4000Gi)."
    )
    assert "| `root.data.analytics` | 1600 cpu, 6400Gi (29% cpu, 29% memory) | 5512 cpu, 22048Gi (default) |" in section
