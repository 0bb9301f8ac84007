"""Property tests of the team queue model and of `teams import`.

Random organisations and teams (shares that fit and shares that do not, defaulted maxima, unknown
organisations, pools subsets, both schedulers) are validated, and an independent oracle written here from
the rules in the README says whether each stack must be refused. A stack is refused exactly when the oracle
finds a broken rule; when it is accepted, what is deployed holds the rules: the ResourceQuota is the max,
the LimitRange fits under it and YuniKorn's queues carry the same numbers. `teams import` of mutated
scheduler files exits 0 or 2 with one located line per problem.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from itertools import combinations
from pathlib import Path

import yaml
from hypothesis import assume, event, given, settings
from hypothesis import strategies as st

from components.spark.teams import limit_range, resource_quota
from components.spark.values import yunikorn_queues
from sparkeks.config.base import memory_mib
from sparkeks.config.loader import ConfigError, load_stack_config
from sparkeks.teams.queues import queue_tree
from tests.conftest import stack_config
from tests.test_input_properties import ODD_TEXT, examples, run_cli

PASSWORD = "spark-on-eks:grafanaAdminPassword"
POOLS = ("driver", "executor", "executorNvme")
DEV = stack_config("dev")
# dev's Spark pools (karpenter.pools.*.limits): cpu, memory in GiB.
CAPACITY = {
    name: (limits["cpu"], int(limits["memory"].removesuffix("Gi")))
    for name, limits in ((n, DEV["spark-on-eks:karpenter"]["pools"][n]["limits"]) for n in POOLS)
}
WHOLE = (sum(c for c, _ in CAPACITY.values()), sum(m for _, m in CAPACITY.values()))

# Small shares often (stacks that validate), large ones sometimes (over-commit, max above the pools), and
# often none at all (a defaulted max, no guarantee).
small = st.builds(lambda cpu, memory: {"cpu": cpu, "memory": f"{memory}Gi"}, st.integers(1, 40), st.integers(1, 160))
shares = small | st.builds(lambda cpu, memory: {"cpu": cpu, "memory": f"{memory}Gi"}, st.integers(1, 400), st.integers(1, 1600))
optional_shares = st.none() | st.none() | small | shares
org_names = st.sampled_from(["data", "ml", "finance"])


@st.composite
def queue_configs(draw) -> dict:
    orgs = [
        {k: v for k, v in {"name": name, "guaranteed": draw(optional_shares), "max": draw(optional_shares)}.items() if v is not None}
        for name in draw(st.lists(org_names, max_size=3, unique=True))
    ]
    declared = [o["name"] for o in orgs]
    # Mostly an organisation that exists; sometimes none, rarely one that does not.
    team_orgs = st.sampled_from([None] * 6 + declared * 4 + ["nope"])
    teams = []
    for name in draw(st.lists(st.sampled_from(["etl", "bi", "adhoc", "training", "reports"]), min_size=1, max_size=4, unique=True)):
        team = {"name": name, "pools": ["driver", *draw(st.lists(st.sampled_from(POOLS[1:]), unique=True))]}
        for key, value in (("org", draw(team_orgs)), ("guaranteed", draw(optional_shares)), ("max", draw(optional_shares))):
            if value is not None:
                team[key] = value
        if draw(st.booleans()):
            team["limits"] = {"maxCpu": draw(st.integers(1, 64))}
        teams.append(team)
    return {"orgs": orgs, "teams": teams, "scheduler": draw(st.sampled_from(["yunikorn"] * 5 + ["none"]))}


@st.composite
def coherent_configs(draw) -> dict:
    """References that resolve, maxima left to their defaults, YuniKorn on: what remains to break is how the
    guarantees add up (within an organisation, across organisations, within a set of pools)."""
    def guarantee(low: int, high: int):
        return st.builds(lambda cpu, memory: {"cpu": cpu, "memory": f"{memory}Gi"}, st.integers(low, high), st.integers(low * 4, high * 4))

    orgs = [{"name": name} for name in draw(st.lists(org_names, min_size=1, max_size=3, unique=True))]
    for org in orgs:
        if draw(st.booleans()):
            org["guaranteed"] = draw(guarantee(60, 250))
    teams = []
    for name in draw(st.lists(st.sampled_from(["etl", "bi", "adhoc", "training", "reports"]), min_size=1, max_size=5, unique=True)):
        team = {"name": name, "pools": draw(st.sampled_from([list(POOLS), ["driver", "executor"], ["driver"]]))}
        org = draw(st.sampled_from([None, *(o["name"] for o in orgs)]))
        if org is not None:
            team["org"] = org
        if draw(st.integers(0, 3)):
            # Each fits its pools alone; only their sum can over-commit.
            team["guaranteed"] = draw(guarantee(1, min(120, _holds(team["pools"])[0])))
        if not draw(st.integers(0, 4)):
            # A container limit against the max the team gets by default (what its pools hold).
            team["limits"] = {"maxCpu": draw(st.integers(1, 400))}
        teams.append(team)
    return {"orgs": orgs, "teams": teams, "scheduler": "yunikorn"}


def _amount(share: dict | None) -> tuple[int, int] | None:
    return None if share is None else (share["cpu"], int(share["memory"].removesuffix("Gi")))


def _fits(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] <= b[0] and a[1] <= b[1]


def _add(*amounts: tuple[int, int]) -> tuple[int, int]:
    return (sum(a[0] for a in amounts), sum(a[1] for a in amounts))


def _holds(pools) -> tuple[int, int]:
    return _add(*(CAPACITY[p] for p in pools))


def broken_rules(drawn: dict) -> list[str]:
    """The oracle: every rule of the README's team queues that `drawn` breaks (empty: it must validate)."""
    orgs, teams = drawn["orgs"], drawn["teams"]
    org_max = {o["name"]: _amount(o.get("max")) or WHOLE for o in orgs}
    broken = []
    team_max = {}
    for team in teams:
        reachable = _holds(team["pools"])
        if team.get("org") in org_max:
            reachable = tuple(map(min, reachable, org_max[team["org"]]))
        team_max[team["name"]] = _amount(team.get("max")) or reachable
        if team.get("org") is not None and team["org"] not in org_max:
            broken.append(f"{team['name']}: unknown organisation")
        if "guaranteed" in team and drawn["scheduler"] == "none":
            broken.append(f"{team['name']}: a guarantee without YuniKorn")
    if broken:
        return broken  # the model reports references first, and only those
    for org in orgs:
        if org["name"] in team_max:
            broken.append(f"{org['name']}: organisation and team share a name")
        if "guaranteed" in org and not _fits(_amount(org["guaranteed"]), org_max[org["name"]]):
            broken.append(f"{org['name']}: guaranteed above max")
        if not _fits(org_max[org["name"]], WHOLE):
            broken.append(f"{org['name']}: max above the stack")
        promised = [_amount(t["guaranteed"]) for t in teams if t.get("org") == org["name"] and "guaranteed" in t]
        if promised and not _fits(_add(*promised), _amount(org.get("guaranteed")) or org_max[org["name"]]):
            broken.append(f"{org['name']}: its teams' guarantees over-commit it")
    for team in teams:
        tmax = team_max[team["name"]]
        if "guaranteed" in team and not _fits(_amount(team["guaranteed"]), tmax):
            broken.append(f"{team['name']}: guaranteed above max")
        if not _fits(tmax, _holds(team["pools"])):
            broken.append(f"{team['name']}: max above its pools")
        if team.get("org") in org_max and not _fits(tmax, org_max[team["org"]]):
            broken.append(f"{team['name']}: max above its organisation's")
        if team.get("limits", {}).get("maxCpu", 0) > tmax[0]:
            broken.append(f"{team['name']}: a container above the team's max")
    if any("guaranteed" in o for o in orgs):
        parts = [_amount(o.get("guaranteed")) or _add((0, 0), *(_amount(t["guaranteed"]) for t in teams if t.get("org") == o["name"] and "guaranteed" in t)) for o in orgs]
        parts += [_amount(t["guaranteed"]) for t in teams if t.get("org") is None and "guaranteed" in t]
        if not _fits(_add((0, 0), *parts), WHOLE):
            broken.append("organisations over-commit the stack")
    for size in range(1, len(POOLS) + 1):
        for pools in combinations(POOLS, size):
            confined = [_amount(t["guaranteed"]) for t in teams if "guaranteed" in t and set(t["pools"]) <= set(pools)]
            if confined and not _fits(_add(*confined), _holds(pools)):
                broken.append(f"guarantees over-commit {', '.join(pools)}")
    return broken


def _load(drawn: dict, scale: float | None = None):
    """dev with the drawn queues; with `scale`, as a DR stack at that dr.capacityScale."""
    raw = {k: (v if isinstance(v, str) else json.dumps(v)) for k, v in DEV.items() if k not in (PASSWORD, "spark-on-eks:teams")}
    spark = {**DEV.get("spark-on-eks:spark", {}), "batchScheduler": drawn["scheduler"]}
    raw.update(
        {
            PASSWORD: "x",
            "spark-on-eks:spark": json.dumps(spark),
            "spark-on-eks:orgs": json.dumps(drawn["orgs"]),
            "spark-on-eks:teams": json.dumps(drawn["teams"]),
        }
    )
    if scale is not None:
        raw["spark-on-eks:dr"] = json.dumps({"primaryStack": "organization/spark-on-eks/prod", "capacityScale": scale})
    return load_stack_config("dev", raw, {PASSWORD})


@settings(max_examples=examples(300))
@given(drawn=queue_configs() | coherent_configs())
def test_a_stack_is_refused_exactly_when_a_queue_rule_is_broken(drawn):
    broken = broken_rules(drawn)
    try:
        config = _load(drawn)
    except ConfigError as err:
        event("refused")
        assert broken, f"refused, but no rule is broken: {err.problems}"
        for line in err.problems:
            assert re.match(r"^stacks/Pulumi\.dev\.yaml: spark-on-eks:(orgs|teams)(\[\d+\])?[.:\w\[\] ]*: ", line), line
        return
    event("accepted")
    assert not broken, f"accepted, but: {broken}"
    tree = queue_tree(config)
    queues = yunikorn_queues(tree, preemption_delay=config.spark.preemption_delay)["partitions"][0]["queues"][0]["queues"]
    leaves = {leaf["name"]: leaf for q in queues for leaf in q.get("queues", [q])}
    for team in config.teams:
        queue = tree.team(team.name)
        hard = resource_quota(team, queue)["spec"]["hard"]
        assert (hard["requests.cpu"], hard["requests.memory"], hard["limits.memory"]) == (str(queue.max.cpu), queue.max.memory, queue.max.memory)
        [container] = limit_range(team, queue)["spec"]["limits"]
        assert int(container["max"]["cpu"]) <= queue.max.cpu
        assert memory_mib(container["max"]["memory"]) <= queue.max.memory_mib
        assert leaves[team.name]["resources"]["max"] == {"vcore": str(queue.max.cpu), "memory": queue.max.memory}
        if queue.guaranteed:
            assert leaves[team.name]["resources"]["guaranteed"] == {"vcore": str(queue.guaranteed.cpu), "memory": queue.guaranteed.memory}


# --- DR standbys: the same file deployed at dr.capacityScale

# Scales at which dev's pools still launch their smallest nodes (below 0.25 the driver pool holds none).
SCALES = st.sampled_from([0.25, 0.29, 0.33, 0.5, 0.7, 0.9, 1.0])


def _rendered_pools(config, scale: float) -> dict[str, tuple[int, int]]:
    """(cpu, MiB) each pool's NodePools render, read back from the NodePool objects themselves."""
    from components.karpenter.nodes import node_pools

    found = {}
    for key in POOLS:
        limits = {json.dumps(p["spec"]["limits"], sort_keys=True) for p in node_pools(key, config.karpenter.pools.pool(key), zones=["z"], node_class="c", consolidation_policy="WhenEmpty", limit_scale=scale)}
        [one] = limits
        cpu, memory = json.loads(one)["cpu"], json.loads(one)["memory"]
        found[key] = (int(cpu), int(memory.removesuffix("Gi")) * 1024)
    return found


def deployed_rules_broken(tree, rendered: dict[str, tuple[int, int]]) -> list[str]:
    """The README's queue rules, checked on what a stack deploys (amounts in cpu, MiB) against the pools
    its NodePools render."""
    def amount(a):
        return (a.cpu, a.memory_mib)

    def holds(pools):
        return _add((0, 0), *(rendered[p] for p in pools))

    whole = holds(POOLS)
    broken = []
    for org in tree.orgs:
        if org.guaranteed and not _fits(amount(org.guaranteed), amount(org.max)):
            broken.append(f"{org.name}: guaranteed above max")
        if not _fits(amount(org.max), whole):
            broken.append(f"{org.name}: max above the pools")
        promised = [amount(t.guaranteed) for t in org.teams if t.guaranteed]
        if promised and not _fits(_add(*promised), amount(org.guaranteed or org.max)):
            broken.append(f"{org.name}: over-committed by its teams")
    for team in tree.teams:
        if team.guaranteed and not _fits(amount(team.guaranteed), amount(team.max)):
            broken.append(f"{team.name}: guaranteed above max")
        if not _fits(amount(team.max), holds(team.pools)) or min(amount(team.max)) <= 0:
            broken.append(f"{team.name}: max above its pools, or nothing")
        if team.org and not _fits(amount(team.max), amount(tree.org(team.org).max)):
            broken.append(f"{team.name}: max above its organisation's")
    if not _fits(amount(tree.root_guaranteed()), whole):
        broken.append("root over-committed")
    for size in range(1, len(POOLS) + 1):
        for pools in combinations(POOLS, size):
            confined = [amount(t.guaranteed) for t in tree.teams if t.guaranteed and set(t.pools) <= set(pools)]
            if confined and not _fits(_add(*confined), holds(pools)):
                broken.append(f"over-committed: {', '.join(pools)}")
    return broken


@settings(max_examples=examples(300))
@given(drawn=queue_configs() | coherent_configs(), scale=SCALES)
def test_a_standby_deploys_only_what_its_pools_hold_and_promotes_as_written(drawn, scale):
    """A standby is refused exactly when its file is refused at failover size, when a container limit the
    team wrote is above its scaled max, or when guarantees rounded up over-commit its pools or an
    organisation; an accepted one deploys queues, ResourceQuotas and LimitRanges that fit the pools its
    NodePools render, no share 0 in any dimension, and promoting it (scale 1) is accepted too."""
    try:
        promoted = _load(drawn, 1.0)
        promoted_lines = []
    except ConfigError as err:
        promoted, promoted_lines = None, err.problems
    try:
        config = _load(drawn, scale)
    except ConfigError as err:
        lines = err.problems
        assume(not any("spark-on-eks:karpenter" in line for line in lines))  # a pool too small for a team's largest pod
        event("refused")
        if promoted_lines:
            note = "" if scale == 1.0 else f"; checked at failover size (dr.capacityScale 1): the standby deploys these queues x {scale:g}"
            expected = [line for line in promoted_lines if "spark-on-eks:karpenter" not in line]
            # Names and references read the same at any scale; amounts say they were checked at failover size.
            assert len(lines) == len(expected) and all(got in (line, line + note) for got, line in zip(lines, expected)), lines
        else:
            standby = (".limits.", "over-committed on this standby (")
            assert scale != 1.0 and lines and all(" on this standby " in line and any(s in line for s in standby) for line in lines), lines
        return
    event("accepted")
    assert promoted is not None, f"the standby is accepted but promoting it is refused: {promoted_lines}"
    tree = queue_tree(config)
    assert deployed_rules_broken(tree, _rendered_pools(config, scale)) == []
    shares = [q.max for q in (*tree.orgs, *tree.teams)] + [q.guaranteed for q in (*tree.orgs, *tree.teams) if q.guaranteed]
    assert all(a.cpu >= 1 and a.memory_mib >= 1024 and a.memory_mib % 1024 == 0 for a in shares) or scale == 1.0, shares
    if scale == 1.0:
        assert tree == queue_tree(promoted)
    for team in config.teams:
        queue = tree.team(team.name)
        hard = resource_quota(team, queue)["spec"]["hard"]
        assert (hard["requests.cpu"], hard["requests.memory"]) == (str(queue.max.cpu), queue.max.memory)
        [container] = limit_range(team, queue)["spec"]["limits"]
        assert int(container["max"]["cpu"]) <= queue.max.cpu
        assert memory_mib(container["max"]["memory"]) <= queue.max.memory_mib


# --- teams import of damaged scheduler files

FIXTURES = Path(__file__).parent / "yarn_queues"
GOOD = {
    "three-orgs-five-queues.xml": ["--total-cpu", "4000", "--total-memory", "16000Gi"],
    "hadoop-doc-hierarchy.xml": ["--total-cpu", "1000", "--total-memory", "4000Gi"],
    "absolute-resources.xml": [],
    "stopped-queue.xml": ["--total-cpu", "200", "--total-memory", "800Gi"],
    "fair-scheduler.xml": ["--total-cpu", "1000", "--total-memory", "4000Gi"],
}
XML_VALUES = ["", "-5", "0", "100", "150", "33.3", "1e9", "abc", "[memory=1024,vcores=2]", "[vcores=-1]", "a,b,,c", "STOPPED", "*", "1024 mb, 2 vcores"]
xml_values = st.sampled_from(XML_VALUES) | st.sampled_from(ODD_TEXT) | st.text(max_size=12)


@st.composite
def damaged_xml(draw) -> tuple[str, str, list[str]]:
    name = draw(st.sampled_from(sorted(GOOD)))
    text = (FIXTURES / name).read_text()
    operation = draw(st.sampled_from(["value", "value", "drop", "copy", "attribute", "truncate"]))
    if operation == "truncate":
        return name, text[: draw(st.integers(0, len(text)))], GOOD[name]
    root = ET.fromstring(text)
    elements = [e for e in root.iter() if e is not root]
    element = draw(st.sampled_from(elements))
    parent = next(p for p in root.iter() if element in list(p))
    if operation == "value":
        element.text = draw(xml_values)
    elif operation == "drop":
        parent.remove(element)
    elif operation == "copy":
        parent.append(ET.fromstring(ET.tostring(element)))
    elif operation == "attribute":
        element.set(draw(st.sampled_from(["name", "type", "value"])), draw(xml_values))
    return name, ET.tostring(root, encoding="unicode"), GOOD[name]


@settings(max_examples=examples(120))
@given(case=damaged_xml())
def test_import_of_a_damaged_scheduler_file_exits_0_or_2(tmp_path_factory, case):
    name, text, args = case
    path = tmp_path_factory.mktemp("xml") / name
    path.write_text(text)
    code, out, err = run_cli("teams", "import", str(path), *args)
    event(f"exit {code}")
    assert code in (0, 2)
    if code == 2:
        assert out == ""
        lines = err.splitlines()
        assert lines
        for line in lines:
            assert line.startswith(f"{path}: ") and len(line) > len(str(path)) + 2, line
            assert "Traceback" not in line
    else:
        block = yaml.safe_load(out)
        assert set(block) <= {"spark-on-eks:orgs", "spark-on-eks:teams"}
        assert all(t["name"] and re.match(r"^[a-z][a-z0-9-]*[a-z0-9]$", t["name"]) for t in block.get("spark-on-eks:teams") or [])
