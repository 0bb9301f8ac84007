"""Property tests of every command that reads user input: whatever the input, the command exits 0 or 2
(1 for `diff --exit-code` with changes), never with a traceback, and on 2 every line names the file (or the
flag) and the key.

The default suite runs a bounded, deterministic number of examples; `make fuzz` runs many more, random
ones (`HYPOTHESIS_PROFILE=fuzz`), and keeps failures in `.hypothesis/` to replay.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import os
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from sparkeks.cli import main
from sparkeks.config.loader import ConfigError, load_stack_config
from sparkeks.config.model import StackConfig
from sparkeks.jobs.render import JobError, render_spec_file
from sparkeks.plan.runner import PlanError, read_stack
from sparkeks.regions import REGIONS
from tests.conftest import PROJECT_ROOT, make_project, stack_config

_COMMON = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much])
settings.register_profile("default", derandomize=True, database=None, **_COMMON)
settings.register_profile("fuzz", max_examples=2000, **_COMMON)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))
FUZZ = os.environ.get("HYPOTHESIS_PROFILE") == "fuzz"


def examples(default: int, fuzz: int | None = None) -> int:
    return (fuzz or default * 20) if FUZZ else default


# A key as the error lines print it: a plain word, a JSON-quoted one, with dots and [index] between parts.
_KEY = r'(?:\(top level\)|(?:[^\s":]+:)?(?:[^\s"]|"(?:[^"\\]|\\.)*")+)'


def assert_lines(lines: list[str], label: str) -> None:
    """Exit-2 output: at least one line, each `<file>: <key>: ...` or `<file>:<line>: ...`."""
    assert lines, "exit 2 without saying why"
    pattern = re.compile(rf"^{re.escape(label)}(?::\d+: {_KEY}: \S|: {_KEY}: \S|:\d+: not valid YAML: \S)")
    for line in lines:
        assert pattern.match(line), f"line does not name the file and the key: {line!r}"
        assert "Traceback" not in line


def run_cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(list(argv))
        except SystemExit as exit_:  # argparse's own usage errors
            code = exit_.code if isinstance(exit_.code, int) else 2
    return code, out.getvalue(), err.getvalue()


# --- values users write: wrong types, odd unicode, huge numbers

ODD_TEXT = ["", " ", "ｐｒｏｄ", "prod\u200b", "İ", "🙂", "a\nb", "\t", "null", "~", "yes", "0x10", "1e400", "-0", "${X}", "'", '"', "NaN"]
HUGE = [0, -1, 2**31, 2**63, 2**64 + 1, 10**30, -(10**30)]

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.sampled_from(HUGE)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=24)
    | st.sampled_from(ODD_TEXT)
)


def _known_keys() -> list[str]:
    keys: set[str] = set()

    def walk(model: Any) -> None:
        for name, field in model.model_fields.items():
            keys.add(field.alias or name)
            for candidate in (field.annotation, *getattr(field.annotation, "__args__", ())):
                inner = getattr(candidate, "__args__", (candidate,))
                for item in (candidate, *inner):
                    if isinstance(item, type) and hasattr(item, "model_fields") and item is not model:
                        walk(item)

    walk(StackConfig)
    return sorted(keys)


KNOWN_KEYS = _known_keys()
keys = st.sampled_from(KNOWN_KEYS) | st.text(min_size=0, max_size=12) | st.sampled_from(ODD_TEXT)
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=4), max_leaves=12)


# --- mutations of a shipped file


def _paths(value: Any, path: tuple = ()) -> list[tuple]:
    found = [path]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*path, index))
    return found


def _get(doc: Any, path: tuple) -> Any:
    for part in path:
        doc = doc[part]
    return doc


@st.composite
def mutated(draw, document: Any, protect: int = 0) -> Any:
    """`document` with 1-3 mutations below depth `protect`: a value replaced by another type, a key removed
    or added (random or a near miss), a list and a map swapped, an entry duplicated."""
    doc = copy.deepcopy(document)
    for _ in range(draw(st.integers(1, 3))):
        paths = [p for p in _paths(doc) if len(p) > protect]
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent, last = _get(doc, path[:-1]), path[-1]
        current = parent[last]
        operation = draw(st.sampled_from(["replace", "delete", "extra", "swap", "duplicate", "near-miss"]))
        if operation == "replace":
            parent[last] = draw(values)
        elif operation == "delete":
            del parent[last]
        elif operation == "extra" and isinstance(current, dict):
            current[draw(keys)] = draw(values)
        elif operation == "near-miss" and isinstance(parent, dict):
            # A typo of an existing key: another case, a letter dropped, a namespace cut short.
            variant = draw(st.sampled_from([last.lower(), last.upper(), last[:-1], last + "s", last.replace("spark-on-eks", "spark-on-ek")]))
            parent[variant] = parent.pop(last)
        elif operation == "swap":
            if isinstance(current, list):
                parent[last] = {str(i): v for i, v in enumerate(current)}
            elif isinstance(current, dict):
                parent[last] = list(current.values())
            else:
                parent[last] = [current]
        elif operation == "duplicate" and isinstance(current, list) and current:
            current.append(copy.deepcopy(current[0]))
    return doc


def dump(document: Any) -> str:
    return yaml.safe_dump(document, allow_unicode=True, sort_keys=False)


# --- stack files


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    return make_project(tmp_path_factory.mktemp("fuzz") / "project", {})


SHIPPED = {name: {"config": stack_config(name)} for name in ("dev", "staging", "prod")}
stack_texts = (
    st.sampled_from(sorted(SHIPPED)).flatmap(lambda name: mutated(SHIPPED[name], protect=1)).map(dump)
    | values.map(lambda v: dump({"config": v}))
    | values.map(dump)
    | st.text(max_size=200)
    | st.sampled_from(sorted(SHIPPED)).map(lambda name: dump(SHIPPED[name]) + dump(SHIPPED[name]).split("\n", 1)[1])
)


def validate_stack_file(project: Path, text: str) -> bool:
    """Read and validate like `plan` does before the program runs: True when valid, else lines asserted."""
    (project / "stacks" / "Pulumi.f.yaml").write_text(text)
    try:
        stack = read_stack("f", project)
        load_stack_config("f", stack.config, stack.secret_keys)
        event("valid")
        return True
    except PlanError as err:
        assert err.exit_code == 2
        assert_lines(err.lines, "stacks/Pulumi.f.yaml")
        event("refused while reading")
    except ConfigError as err:
        assert_lines(err.problems, "stacks/Pulumi.f.yaml")
        event(f"refused: {len(err.problems)} problems" if len(err.problems) < 3 else "refused: 3+ problems")
    return False


@settings(max_examples=examples(150))
@given(text=stack_texts)
def test_any_stack_file_validates_or_gets_its_lines(project, text):
    validate_stack_file(project, text)


@settings(max_examples=examples(4, 200))
@given(document=st.sampled_from(["dev", "prod"]).flatmap(lambda name: mutated(SHIPPED[name], protect=2)))
def test_plan_of_any_stack_file_exits_0_or_2(project, tmp_path_factory, document):
    text = dump(document)
    assume(validate_stack_file(project, text) or FUZZ)  # the default run spends its few plans on files that pass
    out = tmp_path_factory.mktemp("plan")
    shutil.rmtree(out)
    code, _, err = run_cli("plan", "f", "--project-dir", str(project), "--out", str(out), "-q")
    assert code in (0, 2)
    if code == 2:
        assert_lines(err.splitlines(), "stacks/Pulumi.f.yaml")
        assert not out.exists()


# --- job specs

EXAMPLES = {p.name: yaml.safe_load(p.read_text()) for p in sorted((PROJECT_ROOT / "examples").glob("*.yaml"))}
MAIN_FILES = ["s3://b/app.jar", "s3a://b/app.jar", "local:///opt/app.jar", "https://h/app.jar", "/tmp/app.jar", "app.py", "hdfs://n/a.jar", ""]
SIZING = ["spark.executor.memory", "spark.executor.instances", "spark.driver.cores", "spark.sql.shuffle.partitions", "spark.eventLog.dir"]
spec_documents = (
    st.sampled_from(sorted(EXAMPLES)).flatmap(lambda name: mutated(EXAMPLES[name]))
    | st.builds(
        lambda name, main, conf: {**EXAMPLES[name], "mainApplicationFile": main, "sparkConf": conf},
        st.sampled_from(sorted(EXAMPLES)),
        st.sampled_from(MAIN_FILES) | st.text(max_size=20),
        st.dictionaries(st.sampled_from(SIZING) | st.text(max_size=10), st.text(max_size=6), max_size=3),
    )
    | values
    | st.dictionaries(st.sampled_from(["name", "stack", "team", "sparkVersion", "executor", "driver", "sparkConf", "mainApplicationFile"]), values)
)


@settings(max_examples=examples(80))
@given(document=spec_documents)
def test_any_job_spec_renders_or_gets_its_lines(tmp_path_factory, document):
    path = tmp_path_factory.mktemp("spec") / "job.yaml"
    path.write_text(dump(document))
    try:
        render_spec_file(path, project_dir=PROJECT_ROOT, account_id="111122223333")
        event("rendered")
    except JobError as err:
        assert_lines(err.problems, str(path))
        event("refused")


@settings(max_examples=examples(15))
@given(document=st.sampled_from(sorted(EXAMPLES)).flatmap(lambda name: mutated(EXAMPLES[name])))
def test_job_command_exits_0_or_2(tmp_path_factory, document):
    folder = tmp_path_factory.mktemp("job")
    (folder / "job.yaml").write_text(dump(document))
    code, out, err = run_cli("job", str(folder / "job.yaml"), "--account-id", "111122223333", "--out", str(folder / "app.yaml"))
    event(f"exit {code}")
    assert code in (0, 2)
    if code == 2:
        assert_lines(err.splitlines(), str(folder / "job.yaml"))
    else:
        assert yaml.safe_load((folder / "app.yaml").read_text())["kind"] == "SparkApplication"


# --- dr init arguments

zone_names = (
    st.sampled_from(REGIONS["us-east-1"].zones)
    | st.sampled_from(REGIONS["us-west-2"].zones)
    | st.sampled_from(sorted({z for r in REGIONS.values() for z in r.zones}))
    | st.text(max_size=12)
)
zone_lists = st.lists(zone_names, max_size=4).map(",".join) | st.sampled_from(["", ",", " , ", "us-east-1a,,us-east-1a"])


@settings(max_examples=examples(30))
@given(
    primary=st.sampled_from(["prod", "prod", "dev", "nope", "../prod", ""]) | st.text(max_size=8),
    zones=zone_lists,
    spark_zones=st.none() | zone_lists,
    region=st.none() | st.none() | st.sampled_from(sorted(REGIONS)) | st.text(max_size=10),
    name=st.none() | st.sampled_from(["prod-west", "prod", "../x", "a b", ""]) | st.text(max_size=10),
)
def test_dr_init_exits_0_or_2(tmp_path_factory, primary, zones, spark_zones, region, name):
    project = make_project(tmp_path_factory.mktemp("dr") / "p", {"prod": stack_config("prod"), "dev": stack_config("dev")})
    argv = ["dr", "init", primary, f"--zones={zones}", f"--project-dir={project}"]
    argv += [f"--spark-zones={spark_zones}"] if spark_zones is not None else []
    argv += [f"--region={region}"] if region is not None else []
    argv += [f"--name={name}"] if name is not None else []
    code, out, err = run_cli(*argv)
    event(f"exit {code}")
    assert code in (0, 2)
    if code == 0:
        written = out.split()[1]
        assert (project / written).is_file()
        stack = written.removeprefix("stacks/Pulumi.").removesuffix(".yaml")
        load_stack_config(stack, *_with_secrets(read_stack(stack, project)))
    elif not err.startswith("usage:"):
        for line in err.splitlines():
            assert re.match(r'^(--[a-z-]+|stacks/Pulumi\.[^ ]+\.yaml|primary stack \S+ is not valid:|stack: "(?:[^"\\]|\\.)*": not a stack name)', line), line
            assert "Traceback" not in line


def _with_secrets(stack) -> tuple[dict[str, str], list[str]]:
    return stack.config, stack.secret_keys


# --- diff inputs

inventories = (
    values.map(lambda v: json.dumps(v, default=str))
    | st.text(max_size=80)
    | st.builds(
        lambda stack, resources: json.dumps({"stack": stack, "resources": resources, "outputs": {}}),
        st.text(max_size=5) | scalars,
        st.lists(st.fixed_dictionaries({"type": keys, "name": keys, "inputs": values, "options": values}) | values, max_size=3),
    )
)


@settings(max_examples=examples(40))
@given(base=st.none() | inventories, head=st.none() | inventories, helm=st.none() | st.text(max_size=60) | values.map(dump))
def test_diff_exits_0_1_or_2(tmp_path_factory, base, head, helm):
    root = tmp_path_factory.mktemp("diff")
    for side, inventory in (("base", base), ("head", head)):
        (root / side / "helm").mkdir(parents=True)
        if inventory is not None:
            (root / side / "inventory.json").write_text(inventory)
        if helm is not None and side == "head":
            (root / side / "helm" / "release.yaml").write_text(helm)
    code, _, err = run_cli("diff", str(root / "base"), str(root / "head"), "--exit-code")
    event(f"exit {code}")
    assert code in (0, 1, 2)
    if code == 2:
        lines = err.splitlines()
        assert lines
        for line in lines:
            assert re.match(rf"^(sparkeks diff: )?(base|head): {re.escape(str(root))}/(base|head)\S*: \S", line), line


# --- rendered objects: the plan's strict validation (issue 21)

QUANTITY_WORDS = ["two", "64 Gi", "1.5.2", "", "Gi", "10GB", "-", "1e", "∞", "0x10", " 1", "1 ", "thirty-two", "NaN", "1,5"]
quantities = st.sampled_from(QUANTITY_WORDS) | st.text(max_size=8) | st.floats(allow_nan=False, allow_infinity=False) | st.booleans() | st.none()
_QUANTITY_MAPS = ("requests", "limits", "hard", "max", "min", "default", "defaultRequest")


def _quantity_paths(manifest: Any) -> list[tuple]:
    return [p for p in _paths(manifest) if len(p) >= 2 and p[-2] in _QUANTITY_MAPS and isinstance(_get(manifest, p), str | int)]


@st.composite
def broken_objects(draw, manifests: list[dict[str, Any]]) -> dict[str, Any]:
    """A rendered object with a quantity replaced, a NodePool operator changed, or random mutations."""
    manifest = copy.deepcopy(draw(st.sampled_from(manifests)))
    how = draw(st.sampled_from(["quantity", "enum", "mutate"]))
    targets = _quantity_paths(manifest)
    if how == "quantity" and targets:
        path = draw(st.sampled_from(targets))
        _get(manifest, path[:-1])[path[-1]] = draw(quantities)
    elif how == "enum" and manifest.get("kind") == "NodePool":
        requirements = manifest["spec"]["template"]["spec"]["requirements"]
        requirements[draw(st.integers(0, len(requirements) - 1))]["operator"] = draw(st.sampled_from(["in", "IN", "Has", ""]) | st.text(max_size=6))
    else:
        manifest = draw(mutated(manifest))
    return manifest


@pytest.fixture(scope="module")
def rendered(prod) -> list[dict[str, Any]]:
    from sparkeks.plan.writer import is_manifest, manifest_of

    return [manifest_of(r) for r in prod.plan.resources if is_manifest(r)]


@settings(max_examples=examples(150))
@given(data=st.data())
def test_any_broken_object_gets_one_line_per_problem_never_a_traceback(rendered, data):
    from sparkeks.plan.strict import object_label, strict_check

    manifest = data.draw(broken_objects(rendered))
    lines = strict_check("1.35").problems(manifest)
    event("refused" if lines else "valid")
    label = object_label(manifest)
    for line in lines:
        assert "\n" not in line and line.startswith(f"{label}: "), line
        assert re.match(r"^.+: \S.*$", line[len(label) + 2 :]), line


@settings(max_examples=examples(3, 60))
@given(value=quantities)
def test_plan_with_a_broken_rendered_quantity_exits_2_with_its_line(tmp_path_factory, value):
    from components.spark import teams

    real = teams.limit_range

    def broken(*args, **kwargs):
        manifest = real(*args, **kwargs)
        manifest["spec"]["limits"][0]["max"]["cpu"] = value
        return manifest

    out = tmp_path_factory.mktemp("plan") / "out"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(teams, "limit_range", broken)
        code, _, err = run_cli("plan", "dev", "--out", str(out), "-q")
    event(f"exit {code}")
    assert code in (0, 2)
    if code == 2:
        assert err.splitlines()[0].startswith(f"LimitRange analytics/spark-team: spec.limits[0].max.cpu: {json.dumps(value)}: "), err
        assert "Traceback" not in err


# --- feasibility: pools that hold the largest pods teams may ask (issue 21)

pool_limits = st.fixed_dictionaries(
    {"cpu": st.integers(1, 5000) | st.sampled_from([0, -1, 2**40]), "memory": st.sampled_from(["16Gi", "64Gi", "128Gi", "256Gi", "8000Gi", "1Ti", "64 Gi", "0"]) | st.text(max_size=6)}
)
team_limits = st.fixed_dictionaries({}, optional={"maxCpu": st.integers(1, 128), "maxMemory": st.sampled_from(["4Gi", "64Gi", "120Gi", "256Gi", "1Ti"])})


@settings(max_examples=examples(60))
@given(
    pools=st.dictionaries(
        st.sampled_from(["driver", "executor", "executorNvme"]),
        st.fixed_dictionaries({"limits": pool_limits}, optional={"instanceCpus": st.lists(st.sampled_from([2, 4, 8, 16, 32, 48, 64, 96]), min_size=1, max_size=3, unique=True)}),
        max_size=3,
    ),
    limits=team_limits,
    scale=st.none() | st.sampled_from([0.01, 0.1, 0.5, 1.0]),
)
def test_any_pool_and_team_sizes_validate_or_get_their_lines(pools, limits, scale):
    from sparkeks.config.feasibility import effective_limits, launchable
    from sparkeks.config.karpenter import PoolLimits
    from sparkeks.spark.sizing import Node

    raw = {
        "spark-on-eks:grafanaAdminPassword": "x",
        "aws:region": "us-east-1",
        "spark-on-eks:karpenter": json.dumps({"pools": pools}),
        "spark-on-eks:teams": json.dumps([{"name": "analytics", "limits": limits}]),
    }
    if scale is not None:
        raw["spark-on-eks:dr"] = json.dumps({"primaryStack": "organization/spark-on-eks/prod", "capacityScale": scale})
    try:
        load_stack_config("f", raw, ["spark-on-eks:grafanaAdminPassword"])
        event("valid")
    except ConfigError as err:
        assert_lines(err.problems, "stacks/Pulumi.f.yaml")
        stranded = [line for line in err.problems if "never launch (the smallest is " in line]
        event("stranded" if stranded else "refused otherwise")
        for line in stranded:
            # The type it names holds the shape, and the limits it quotes really keep it out.
            quoted = PoolLimits.model_validate(json.loads(re.search(r"\.limits: (\{[^}]*\}): ", line)[1]))
            needs = re.search(r"the smallest is ([a-z0-9.]+):", line)[1]
            assert not launchable(Node.of(needs), *effective_limits(quoted, scale or 1.0)), line


# --- guarantees fit the capacity (issue 10's queue checks, driven by random sizes)

shares = st.fixed_dictionaries({"cpu": st.integers(1, 3000), "memory": st.sampled_from(["64Gi", "512Gi", "2000Gi", "8000Gi", "20000Gi"])})
team_entries = st.lists(
    st.fixed_dictionaries(
        {"pools": st.sampled_from([["driver"], ["driver", "executor"], ["driver", "executorNvme"], ["driver", "executor", "executorNvme"]])},
        optional={"guaranteed": shares, "max": shares},
    ),
    min_size=1,
    max_size=4,
)


@settings(max_examples=examples(60))
@given(
    teams=team_entries,
    limits=st.fixed_dictionaries({k: st.fixed_dictionaries({"limits": shares}) for k in ("driver", "executor", "executorNvme")}),
)
def test_guaranteed_shares_the_stack_accepts_can_all_be_delivered_at_once(teams, limits):
    from itertools import combinations

    from sparkeks.config.base import memory_mib

    named = [{"name": f"team-{i}", **team} for i, team in enumerate(teams)]
    raw = {
        "spark-on-eks:grafanaAdminPassword": "x",
        "aws:region": "us-east-1",
        "spark-on-eks:spark": json.dumps({"batchScheduler": "yunikorn"}),
        "spark-on-eks:karpenter": json.dumps({"pools": limits}),
        "spark-on-eks:teams": json.dumps(named),
    }
    try:
        load_stack_config("f", raw, ["spark-on-eks:grafanaAdminPassword"])
    except ConfigError as err:
        assert_lines(err.problems, "stacks/Pulumi.f.yaml")
        event("refused")
        return
    event("valid")
    # Hall's condition on the input as written: the teams confined to any set of pools are guaranteed no
    # more than those pools' limits add up to.
    for size in (1, 2, 3):
        for pools in combinations(("driver", "executor", "executorNvme"), size):
            confined = [t["guaranteed"] for t in named if "guaranteed" in t and set(t["pools"]) <= set(pools)]
            assert sum(s["cpu"] for s in confined) <= sum(limits[p]["limits"]["cpu"] for p in pools)
            assert sum(memory_mib(s["memory"]) for s in confined) <= sum(memory_mib(limits[p]["limits"]["memory"]) for p in pools)
