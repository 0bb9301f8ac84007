"""A DR standby's queues, quotas and checks follow the pools it renders (dr.capacityScale).

`dr init prod` writes prod's pools and teams into the DR stack file and sets capacityScale 0.1: the
NodePools render a tenth of prod's limits, so YuniKorn's queues and the teams' ResourceQuotas must promise a
tenth too (guarantees, maxima and pools rounded up to whole vCPUs and GiB), and failover (capacityScale 1) must give
back exactly the file's queues without editing a team.
"""

from __future__ import annotations

import json

import pytest
import yaml

from sparkeks.cli import main
from sparkeks.config.loader import ConfigError, load_stack_config
from sparkeks.dr import dr_init
from sparkeks.plan.runner import load_stack, run_plan
from sparkeks.teams.queues import Amount, queue_tree
from tests.conftest import PROJECT_ROOT, PlanView, make_project, stack_config

PASSWORD_KEY = "spark-on-eks:grafanaAdminPassword"
GIB = 1024
NODE_POOL = "kubernetes:karpenter.sh/v1:NodePool"
QUOTA = "kubernetes:core/v1:ResourceQuota"
LIMIT_RANGE = "kubernetes:core/v1:LimitRange"


def _project(tmp_path, scale: float | None = None):
    project = make_project(tmp_path / "project", {"prod": stack_config("prod")})
    stack = dr_init("prod", zones=["us-east-1d", "us-east-1e"], project_dir=project)
    if scale is not None:
        stack.path.write_text(stack.path.read_text().replace("capacityScale: 0.1", f"capacityScale: {scale}"))
    return project


@pytest.fixture(scope="module")
def standby_project(tmp_path_factory):
    return _project(tmp_path_factory.mktemp("standby"))


@pytest.fixture(scope="module")
def standby(standby_project) -> PlanView:
    return PlanView(run_plan("prod-dr", standby_project))


def _queues(view: PlanView) -> dict[str, dict]:
    """Every queue of YuniKorn's queues.yaml by name, with its resources."""
    release = next(r for r in view.of_type("kubernetes:helm.sh/v3:Release") if "yunikornDefaults" in r["inputs"].get("values", {}))
    root = yaml.safe_load(release["inputs"]["values"]["yunikornDefaults"]["queues.yaml"])["partitions"][0]["queues"][0]
    found = {}

    def walk(queue):
        for child in queue.get("queues", []):
            found[child["name"]] = child["resources"]
            walk(child)

    walk(root)
    return found


def _quotas(view: PlanView) -> dict[str, dict]:
    return {q["inputs"]["metadata"]["namespace"]: q["inputs"]["spec"]["hard"] for q in view.of_type(QUOTA) if q["inputs"]["metadata"]["name"] == "spark-team"}


def test_the_standby_renders_a_tenth_of_prods_pools(standby):
    limits = {p["inputs"]["metadata"]["name"]: p["inputs"]["spec"]["limits"] for p in standby.of_type(NODE_POOL)}
    assert limits["spark-driver"] == {"cpu": "52", "memory": "205Gi"}  # 51.2 cpu, 204.8Gi rounded up
    assert limits["spark-executor"] == {"cpu": "400", "memory": "1600Gi"}
    assert limits["spark-executor-nvme"] == {"cpu": "100", "memory": "400Gi"}


def test_the_standbys_queues_promise_a_tenth_of_prods(standby):
    assert _queues(standby) == {
        # The organisation's max defaults to the standby's whole Spark capacity: 52 + 400 + 100 cpu, 205 + 1600 + 400Gi.
        "data": {"guaranteed": {"vcore": "240", "memory": "960Gi"}, "max": {"vcore": "552", "memory": "2205Gi"}},
        "analytics": {"guaranteed": {"vcore": "160", "memory": "640Gi"}, "max": {"vcore": "552", "memory": "2205Gi"}},
        "ml-platform": {"guaranteed": {"vcore": "120", "memory": "480Gi"}, "max": {"vcore": "240", "memory": "960Gi"}},
    }
    # The figure the README quotes.
    assert "the analytics team is guaranteed 160 of 552 vCPUs, not prod's 1,600" in " ".join((PROJECT_ROOT / "README.md").read_text().split())


def test_the_standbys_resource_quotas_are_its_scaled_maxima(standby):
    assert _quotas(standby) == {
        "analytics": {"requests.cpu": "552", "requests.memory": "2205Gi", "limits.memory": "2205Gi", "pods": "2000"},
        "ml-platform": {"requests.cpu": "240", "requests.memory": "960Gi", "limits.memory": "960Gi", "pods": "1000"},
    }


def test_container_limits_are_pod_shapes_and_do_not_scale(standby):
    """The largest executor a team may ask is a node's shape, the same on a standby: only its count shrinks."""
    ranges = {r["inputs"]["metadata"]["namespace"]: r["inputs"]["spec"]["limits"][0]["max"] for r in standby.of_type(LIMIT_RANGE)}
    # analytics writes its limits; ml-platform's default to the room of prod's largest executor node (r6a.8xlarge),
    # which the standby's scaled executor pool (400 vCPUs, 1600Gi) still launches.
    assert ranges == {"analytics": {"cpu": "32", "memory": "256Gi"}, "ml-platform": {"cpu": "32", "memory": "239354Mi"}}


def test_failover_gives_back_exactly_prods_queues_and_quotas(tmp_path, prod):
    promoted = PlanView(run_plan("prod-dr", _project(tmp_path, scale=1)))
    assert _queues(promoted) == _queues(prod)
    assert _quotas(promoted) == _quotas(prod)
    assert _queues(promoted)["ml-platform"] == {"guaranteed": {"vcore": "1200", "memory": "4800Gi"}, "max": {"vcore": "2400", "memory": "9600Gi"}}


def _raw(scale: float, teams: list, orgs: list | None = None, times: int = 1) -> dict[str, str]:
    pools = {
        "driver": {"limits": {"cpu": 100 * times, "memory": f"{400 * times}Gi"}},
        "executor": {"limits": {"cpu": 1000 * times, "memory": f"{4000 * times}Gi"}},
        "executorNvme": {"limits": {"cpu": 100 * times, "memory": f"{400 * times}Gi"}},
    }
    return {
        PASSWORD_KEY: "x",
        "aws:region": "us-east-1",
        "aws:allowedAccountIds": '["111122223333"]',
        "spark-on-eks:karpenter": json.dumps({"pools": pools}),
        "spark-on-eks:orgs": json.dumps(orgs or []),
        "spark-on-eks:teams": json.dumps(teams),
        "spark-on-eks:dr": json.dumps({"primaryStack": "organization/spark-on-eks/prod", "capacityScale": scale}),
    }


def _load(scale: float, teams: list, orgs: list | None = None, times: int = 1):
    return load_stack_config("s", _raw(scale, teams, orgs, times), {PASSWORD_KEY})


def _problems(scale: float, teams: list, orgs: list | None = None, times: int = 1) -> list[str]:
    with pytest.raises(ConfigError) as err:
        _load(scale, teams, orgs, times)
    return err.value.problems


# Containers no larger than the NVMe nodes a 0.29 standby still launches (its 29 vCPUs keep out the 8xlarges).
ETL = {"name": "etl", "guaranteed": {"cpu": 100, "memory": "300Gi"}, "limits": {"maxCpu": 16, "maxMemory": "48Gi"}}
BI = {"name": "bi", "max": {"cpu": 7, "memory": "3Gi"}}


def test_scaled_amounts_are_exact_decimal_shares_rounded_up():
    """0.29 of 100 is 29, not 28 as the float product 28.999999999999996 would round down."""
    tree = queue_tree(_load(0.29, [ETL, BI]))
    assert tree.pool_capacity == {"driver": Amount(29, 116 * GIB), "executor": Amount(290, 1160 * GIB), "executorNvme": Amount(29, 116 * GIB)}
    assert tree.capacity == Amount(348, 1392 * GIB)
    assert tree.team("etl").guaranteed == Amount(29, 87 * GIB)
    assert tree.team("etl").max == Amount(348, 1392 * GIB)  # defaulted: what its pools hold on the standby


def test_a_scaled_max_keeps_at_least_one_vcpu_and_one_gib():
    """7 cpu, 3Gi x 0.29 is 2.03 cpu, 890.88Mi: 3 cpu and 1Gi, rounded up (a team is never shut out of its standby)."""
    assert queue_tree(_load(0.29, [ETL, BI])).team("bi").max == Amount(3, GIB)
    assert queue_tree(_load(0.01, [BI], times=10)).team("bi").max == Amount(1, GIB)


def test_the_nodepools_render_the_pools_the_queues_are_checked_against():
    from components.karpenter.nodes import node_pools

    config = _load(0.29, [ETL])
    tree = queue_tree(config)
    for key in ("driver", "executor", "executorNvme"):
        [*pools] = node_pools(key, config.karpenter.pools.pool(key), zones=["us-east-1a"], node_class="c", consolidation_policy="WhenEmpty", limit_scale=0.29)
        expected = tree.pool_capacity[key]
        for pool in pools:
            assert pool["spec"]["limits"] == {"cpu": str(expected.cpu), "memory": expected.memory}


def test_the_file_is_checked_at_failover_size_so_promotion_never_fails():
    """Guarantees of 51 + 51 cpu over a 100 cpu pool round to 5 + 5 over 10 on the standby, but promoted they
    could not be met: refused, in the file's own figures."""
    teams = [
        {"name": "etl", "pools": ["driver"], "guaranteed": {"cpu": 51, "memory": "100Gi"}},
        {"name": "bi", "pools": ["driver"], "guaranteed": {"cpu": 51, "memory": "100Gi"}},
    ]
    assert _problems(0.1, teams) == [
        'stacks/Pulumi.s.yaml: spark-on-eks:teams: {"bi": {"cpu": 51, "memory": "100Gi"}, "etl": {"cpu": 51, "memory": "100Gi"}}: '
        "over-committed: teams etl (51 cpu, 100Gi), bi (51 cpu, 100Gi) are guaranteed 102 cpu, 200Gi together, more than the pools "
        "driver hold (100 cpu, 400Gi: karpenter.pools.*.limits); checked at failover size (dr.capacityScale 1): the standby deploys "
        "these queues x 0.1"
    ]


def test_a_container_limit_above_the_standbys_team_max_is_refused_naming_the_scale():
    """Pools ten times the usual: at 0.1 they still launch the largest nodes; only the team's quota is small."""
    team = {"name": "ml", "max": {"cpu": 100, "memory": "400Gi"}, "limits": {"maxCpu": 32, "maxMemory": "64Gi"}}
    assert _problems(0.1, [team], times=10) == [
        "stacks/Pulumi.s.yaml: spark-on-eks:teams[0].limits.maxCpu: 32: is larger than the team's max cpu 10 on this standby "
        "(max.cpu 100 x dr.capacityScale 0.1, rounded up): no pod of that size is admitted; lower limits.maxCpu to 10 or raise dr.capacityScale",
        "stacks/Pulumi.s.yaml: spark-on-eks:teams[0].limits.maxMemory: \"64Gi\": is larger than the team's max memory 40Gi on this standby "
        "(max.memory 400Gi x dr.capacityScale 0.1, rounded up): no pod of that size is admitted; lower limits.maxMemory to 40Gi or raise dr.capacityScale",
    ]
    # Promoted, the same team is fine.
    assert queue_tree(_load(1, [team], times=10)).team("ml").max == Amount(100, 400 * GIB)


def test_defaulted_container_limits_shrink_to_the_standbys_max():
    from components.spark.teams import limit_range

    config = _load(0.1, [{"name": "ml", "max": {"cpu": 100, "memory": "400Gi"}}], times=10)
    team = config.teams[0]
    spec = limit_range(team, queue_tree(config).team("ml"))["spec"]["limits"][0]
    assert spec["max"] == {"cpu": "10", "memory": "40Gi"}
    assert spec["defaultRequest"] == {"cpu": "1", "memory": "2Gi"}


def test_teams_report_of_a_standby_shows_what_it_deploys_and_says_so(standby_project, capsys):
    assert main(["teams", "report", "prod-dr", "--project", str(standby_project)]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[2] == (
        "Scheduler: YuniKorn: elastic queues; a team below its guaranteed share gets it back by preemption after 2m. "
        "Spark capacity: 552 cpu, 2205Gi (driver 52 cpu, 205Gi; executor 400 cpu, 1600Gi; executorNvme 100 cpu, 400Gi). "
        "DR standby: pools and queues at dr.capacityScale 0.1 of this stack file's, rounded up to whole vCPUs and GiB; "
        "failover (capacityScale 1) deploys the file's own."
    )
    assert "| `root.ml-platform` | 120 cpu, 480Gi (22% cpu, 22% memory) | 240 cpu, 960Gi | 240 cpu, 960Gi | driver, executor |" in lines


def test_teams_import_into_a_standby_sizes_against_the_files_capacity(standby_project, capsys):
    """Imported figures go into the stack file, which holds the primary's: the standby scales them when it deploys."""
    from tests.test_teams_import import FIXTURES

    xml = str(FIXTURES / "fair-scheduler.xml")
    assert main(["teams", "import", xml, "--stack", "prod", "--project", str(standby_project)]) == 0
    primary = capsys.readouterr().out
    assert main(["teams", "import", xml, "--stack", "prod-dr", "--project", str(standby_project)]) == 0
    assert capsys.readouterr().out == primary


def test_a_job_on_the_standby_is_warned_against_its_scaled_quota(standby_project, tmp_path):
    from sparkeks.jobs.render import render_job
    from sparkeks.jobs.spec import JobSpec

    spec = JobSpec.model_validate(
        {
            "name": "wide",
            "stack": "prod-dr",
            "team": "ml-platform",
            "mainApplicationFile": "s3a://example-ml-prod/jobs/etl.jar",
            "mainClass": "com.example.Etl",
            "image": "repo@sha256:" + "0" * 64,
            "fit": "off",
            "executor": {"instances": 100, "cores": 4, "memory": "14g"},
        }
    )
    config = load_stack("prod-dr", standby_project)
    job = render_job(spec, label="job.yaml", config=config, account_id="111122223333")
    assert any("team ml-platform's max (its ResourceQuota) is 240 CPUs" in w for w in job.warnings), job.warnings


def test_a_small_standbys_queues_round_up_to_whole_vcpus_and_gib_never_zero():
    """4 cpu x 0.1 is 0.4: floored it was a guaranteed vcore of 0, which YuniKorn reads as an explicit zero
    (every pod of the team over its guarantee, so always a preemption victim), and 16Gi x 0.1 was 1638Mi.
    YuniKorn's queue quantities are whole numbers (vcore in cores or millicores, memory in bytes with an SI
    suffix): the standby rounds each share up to whole vCPUs and GiB, as its NodePool limits do."""
    from components.spark.values import yunikorn_queues

    team = {"name": "etl", "guaranteed": {"cpu": 4, "memory": "16Gi"}, "max": {"cpu": 8, "memory": "18Gi"}}
    org = {"name": "data", "guaranteed": {"cpu": 6, "memory": "20Gi"}, "max": {"cpu": 9, "memory": "30Gi"}}
    tree = queue_tree(_load(0.1, [{**team, "org": "data"}], orgs=[org]))
    root = yunikorn_queues(tree, preemption_delay="2m")["partitions"][0]["queues"][0]
    [data] = root["queues"]
    assert data["resources"] == {"guaranteed": {"vcore": "1", "memory": "2Gi"}, "max": {"vcore": "1", "memory": "3Gi"}}
    assert data["queues"][0]["resources"] == {"guaranteed": {"vcore": "1", "memory": "2Gi"}, "max": {"vcore": "1", "memory": "2Gi"}}
    # Exact shares stay exact: 100 cpu, 300Gi x 0.29 is 29 cpu, 87Gi; 7 cpu, 3Gi x 0.29 is 2.03 cpu, 0.87Gi: 3 cpu, 1Gi.
    tree = queue_tree(_load(0.29, [ETL, BI]))
    assert (tree.team("etl").guaranteed, tree.team("bi").max) == (Amount(29, 87 * GIB), Amount(3, GIB))


def test_a_standby_whose_rounded_up_guarantees_over_commit_its_pools_is_refused():
    """3 x 62 cpu guaranteed on a 200 cpu driver pool: at 0.05 the pool is 10 cpu and each guarantee (3.1)
    rounds up to 4, 12 together. YuniKorn refuses a queues.yaml whose children promise more than their
    parent, and a pool cannot give back more than it holds: the line says what the standby would deploy."""
    teams = [{"name": name, "pools": ["driver"], "guaranteed": {"cpu": 62, "memory": "10Gi"}} for name in ("etl", "bi", "ml")]
    assert _problems(0.05, teams, times=2) == [
        'stacks/Pulumi.s.yaml: spark-on-eks:teams: {"bi": {"cpu": 62, "memory": "10Gi"}, "etl": {"cpu": 62, "memory": "10Gi"}, '
        '"ml": {"cpu": 62, "memory": "10Gi"}}: over-committed on this standby (dr.capacityScale 0.05, each share rounded up to '
        "whole vCPUs and GiB): teams etl (4 cpu, 1Gi), bi (4 cpu, 1Gi), ml (4 cpu, 1Gi) are guaranteed 12 cpu, 3Gi together, "
        "more than the pools driver hold (10 cpu, 40Gi: karpenter.pools.*.limits); raise dr.capacityScale"
    ]
    # At 0.2 the same teams fit: 3 x 13 cpu of 40.
    assert queue_tree(_load(0.2, teams, times=2)).team("etl").guaranteed == Amount(13, 2 * GIB)
