"""A plan is a function of the commit and the stack file, never of the day it runs: the same stack planned on
two different days writes the same bytes, and nothing the plan runs reads the wall clock."""

from __future__ import annotations

import sys
import threading
import time
from datetime import UTC, date, datetime
from pathlib import Path

from sparkeks.cli import main
from tests.conftest import PROJECT_ROOT, make_project, stack_config, with_overrides

# Either side of 2026-12-02, the end of EKS standard support of Kubernetes 1.34 (sparkeks/support.yaml): a
# cluster kept on 1.34 (upgrade policy EXTENDED) is where a plan that read the clock would change.
DAYS = (date(2026, 11, 30), date(2027, 1, 15))
# What reads the wall clock, by the name a C-level call reports (date.today and datetime.today/now/utcnow
# included: they are methods of C types, invisible to a monkeypatch of the datetime module).
CLOCK_CALLS = {"time", "time_ns", "localtime", "gmtime", "ctime", "asctime", "strftime", "today", "now", "utcnow"}


def _tree(path: Path) -> dict[str, bytes]:
    return {str(p.relative_to(path)): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}


def _extended_134(tmp_path: Path) -> Path:
    config = with_overrides(stack_config("prod"), cluster={"kubernetesVersion": "1.34", "supportType": "EXTENDED"})
    return make_project(tmp_path / "project", {"prod": config})


def _plan(project: Path, out: Path) -> None:
    assert main(["plan", "prod", "-q", "--project", str(project), "--out", str(out)]) == 0


def test_the_same_stack_planned_on_two_days_writes_the_same_bytes(tmp_path, monkeypatch):
    project = _extended_134(tmp_path)
    for day in DAYS:
        noon = datetime(day.year, day.month, day.day, 12, tzinfo=UTC).timestamp()
        # date.today() and datetime.today() take the time from time.time().
        monkeypatch.setattr(time, "time", lambda noon=noon: noon)
        monkeypatch.setattr(time, "time_ns", lambda noon=noon: int(noon * 1e9))
        assert date.today() == day  # the fake reaches the clock the code reads
        _plan(project, tmp_path / day.isoformat())
    first, second = (_tree(tmp_path / day.isoformat()) for day in DAYS)
    assert {"inventory.json", "summary.md", "cost.md", "manifests/nodepool.spark-executor.yaml"} <= set(first)
    assert [name for name in first if first[name] != second.get(name)] == []
    assert first == second


def test_the_plan_reads_no_wall_clock(tmp_path):
    project = _extended_134(tmp_path)
    ours = (str(PROJECT_ROOT / "sparkeks"), str(PROJECT_ROOT / "components"), str(PROJECT_ROOT / "__main__.py"))
    reads: list[str] = []

    def watch(frame, event, arg):
        if event == "c_call" and getattr(arg, "__name__", None) in CLOCK_CALLS and frame.f_code.co_filename.startswith(ours):
            where = Path(frame.f_code.co_filename).relative_to(PROJECT_ROOT)
            reads.append(f"{where}:{frame.f_lineno} {arg.__qualname__}()")

    threading.setprofile(watch)
    sys.setprofile(watch)
    try:
        _plan(project, tmp_path / "out")
    finally:
        sys.setprofile(None)
        threading.setprofile(None)
    assert reads == []
