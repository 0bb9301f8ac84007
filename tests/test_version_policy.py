"""The version policy: every pin has support facts, `versions --check` fails on end of life and on
unwaived advisories, and the README's table is the command's output."""

from __future__ import annotations

import ast
import datetime as dt
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from sparkeks import versions
from sparkeks.version_policy import PIN_CONSTANTS, PINNED, SUPPORT_FILE, evaluate, markdown_table
from tests.conftest import PROJECT_ROOT

SUPPORT = yaml.safe_load(SUPPORT_FILE.read_text())


def _versions(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sparkeks", "versions", *args], capture_output=True, text=True, cwd=PROJECT_ROOT)


def _fixture(tmp_path: Path, **changes) -> Path:
    data = yaml.safe_load(SUPPORT_FILE.read_text())
    for dotted, value in changes.items():
        node = data
        *parents, last = dotted.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = value
    path = tmp_path / "support.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def test_every_version_pin_in_versions_py_has_support_facts():
    tree = ast.parse((PROJECT_ROOT / "sparkeks" / "versions.py").read_text())
    pins = {
        target.id
        for node in tree.body
        if isinstance(node, ast.Assign)
        for target in node.targets
        if isinstance(target, ast.Name) and target.id.endswith("_VERSION")
    }
    assert pins == set(PIN_CONSTANTS), "a new *_VERSION pin needs an entry in version_policy.PIN_CONSTANTS and support.yaml"
    assert set(PIN_CONSTANTS.values()) <= set(PINNED)
    assert set(PINNED) <= set(SUPPORT["components"])


def test_every_offered_spark_line_and_kubernetes_minor_is_a_row():
    rows = evaluate(dt.date(2026, 11, 29)).rows
    assert [(r.line, r.pinned) for r in rows if r.component == "spark"] == [(k, v.spark_version) for k, v in versions.SPARK_RUNTIMES.items()]
    assert [r.line for r in rows if r.component == "kubernetes"] == list(versions.SUPPORTED_KUBERNETES_VERSIONS)


def test_the_shipped_pins_are_in_policy_today():
    # Runs on the day CI runs: a line reaching its end of life, or a waiver expiring, fails the suite then.
    report = evaluate()
    assert report.failures == []
    result = _versions("--check")
    assert result.returncode == 0, result.stderr


def test_yunikorns_advisories_stay_recorded_and_no_longer_affect_the_pin():
    yunikorn = SUPPORT["components"]["yunikorn"]
    assert {(a["id"], a["fixedIn"]) for a in yunikorn["advisories"]} == {("CVE-2026-92393", "1.10.0"), ("CVE-2026-97146", "1.10.0")}
    assert [w for w in SUPPORT["waivers"] if w["component"] == "yunikorn"] == []
    row = next(r for r in evaluate(dt.date(2026, 11, 29)).rows if r.component == "yunikorn")
    assert (row.pinned, row.advisories, row.status) == (versions.YUNIKORN_VERSION, [], "supported")


def test_a_yunikorn_pin_below_the_fix_fails_the_check(monkeypatch):
    monkeypatch.setattr(versions, "YUNIKORN_VERSION", "1.9.0")
    assert [f for f in evaluate(dt.date(2026, 11, 29)).failures if f.startswith("yunikorn")] == [
        "yunikorn (1.9.0): CVE-2026-92393 (fixed in 1.10.0)",
        "yunikorn (1.9.0): CVE-2026-97146 (fixed in 1.10.0)",
    ]


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))


@pytest.mark.parametrize("stack", sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in (PROJECT_ROOT / "stacks").glob("Pulumi.*.yaml")))
def test_every_stack_with_yunikorn_on_deploys_1_10_0_or_later(stack, request):
    """Queues are the teams' isolation boundary: no stack may run a YuniKorn with the admission bypasses,
    neither the chart nor any of its three images."""
    from sparkeks.plan.runner import load_stack, run_plan
    from sparkeks.plan.writer import HELM_RELEASE
    from tests.conftest import PlanView

    if load_stack(stack).spark.batch_scheduler != "yunikorn":
        pytest.skip(f"{stack} runs without YuniKorn")  # every shipped stack runs it today
    view = request.getfixturevalue(stack) if stack in ("dev", "prod") else PlanView(run_plan(stack))
    [release] = [r["inputs"] for r in view.of_type(HELM_RELEASE) if r["inputs"]["name"] == "yunikorn"]
    assert _version(release["version"]) >= (1, 10, 0)
    values = release["values"]
    tags = [values["image"]["tag"], values["web"]["image"]["tag"], values["admissionController"]["image"]["tag"]]
    assert [tag.split("-", 1)[0] for tag in tags] == ["scheduler", "web", "admission"]
    assert all(_version(tag.split("-", 1)[1]) >= (1, 10, 0) for tag in tags), tags


def test_the_history_server_and_new_jobs_run_a_supported_spark_line():
    today = dt.date(2026, 11, 29)
    eol = {line: dt.date.fromisoformat(v["date"]) for line, v in SUPPORT["components"]["spark"]["endOfLife"].items()}
    from sparkeks.config.model import HistoryServerConfig

    for line in (HistoryServerConfig().spark_line, versions.DEFAULT_SPARK_LINE):
        assert line not in eol or eol[line] > today, line


def test_check_fails_on_a_pin_past_its_end_of_life(tmp_path):
    path = _fixture(tmp_path, **{"components.spark.endOfLife": {"4.1": {"date": "2026-11-01"}}})
    report = evaluate(dt.date(2026, 11, 29), path)
    assert report.failures == ["spark 4.1 (4.1.3): past end of life since 2026-11-01"]
    result = _versions("--check", "--date", "2026-11-29", "--support-file", str(path))
    assert result.returncode == 1
    assert "unsupported: spark 4.1 (4.1.3): past end of life since 2026-11-01" in result.stderr.splitlines()


def test_check_fails_on_an_advisory_without_a_waiver_and_passes_with_one(tmp_path):
    advisory = [{"id": "CVE-2099-0001", "fixedIn": "99.0.0", "impact": "test advisory"}]
    path = _fixture(tmp_path, **{"components.karpenter.advisories": advisory})
    assert evaluate(dt.date(2026, 11, 29), path).failures == [f"karpenter ({versions.KARPENTER_VERSION}): CVE-2099-0001 (fixed in 99.0.0)"]

    waiver = {"component": "karpenter", "kind": "advisory", "advisory": "CVE-2099-0001", "reason": "not reachable here", "expires": "2026-12-31"}
    data = yaml.safe_load(path.read_text())
    data["waivers"].append(waiver)
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    row = next(r for r in evaluate(dt.date(2026, 11, 29), path).rows if r.component == "karpenter")
    assert row.problems == [] and row.status == "waived until 2026-12-31"
    # The acceptance ends on its date.
    assert [f for f in evaluate(dt.date(2027, 1, 1), path).failures if f.startswith("karpenter")] == [
        f"karpenter ({versions.KARPENTER_VERSION}): CVE-2099-0001 (fixed in 99.0.0); its waiver expired 2026-12-31"
    ]


def test_an_expired_end_of_life_waiver_fails_on_the_next_day():
    waiver = next(w for w in SUPPORT["waivers"] if w["component"] == "spark" and w["line"] == "3.5")
    expires = dt.date.fromisoformat(waiver["expires"])
    assert "spark 3.5 (3.5.9)" not in " ".join(evaluate(expires).failures)
    assert f"spark 3.5 (3.5.9): past end of life since 2026-04-12; its waiver expired {expires.isoformat()}" in evaluate(
        expires + dt.timedelta(days=1)
    ).failures


def test_kubernetes_past_standard_support_shows_the_extra_cost_but_passes():
    row = next(r for r in evaluate(dt.date(2026, 12, 3)).rows if r.component == "kubernetes" and r.line == "1.34")
    assert row.problems == [] and row.status == "extended support (extra cost)"


def test_malformed_support_files_and_dates_are_one_line_errors(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("components: {}\n")
    result = _versions("--support-file", str(bad))
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1
    assert "no support facts for pinned component(s)" in result.stderr
    path = _fixture(tmp_path, waivers=[{"component": "spark", "kind": "endOfLife", "line": "3.5", "reason": "x", "expires": "soon"}])
    result = _versions("--support-file", str(path))
    assert result.returncode == 2 and result.stderr.strip() == "support.yaml: waivers[0].expires: 'soon' is not a date like 2027-03-31"
    result = _versions("--date", "tomorrow")
    assert result.returncode == 2 and result.stderr.strip() == "--date: 'tomorrow' is not a date like 2027-03-31"


def test_readme_versions_section_is_the_commands_table():
    readme = (PROJECT_ROOT / "README.md").read_text()
    match = re.search(r"<!-- versions:start -->\n(.*?)<!-- versions:end -->", readme, re.S)
    assert match, "README needs the generated versions table"
    checked = dt.date.fromisoformat(SUPPORT["checked"])
    assert match.group(1) == markdown_table(evaluate(checked))
