"""`sparkeks migrate event-log` on event logs written by real PySpark jobs of known behaviour.

The jobs (tests/eventlog_jobs/) run with spark-submit on a local cluster (real executor JVMs, as on
YARN) and write their logs the ways Spark does: rolling zstd (Spark 4's default), a single lz4 file,
snappy, lzf and plain. Executor metrics are polled every 50 ms so these short jobs are measured as
closely as a long job is by its heartbeats.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from sparkeks.migrate.eventlog import EventLogError, codec_of, read_event_log
from sparkeks.migrate.recommend import recommend
from sparkeks.migrate.submit import Target
from sparkeks.spark.sizing import parse_memory_mib
from tests.conftest import PROJECT_ROOT

JOBS = Path(__file__).parent / "eventlog_jobs"
# The newest line's PySpark, where `make pyspark` installs it (as for the local History Server check).
PYSPARK_DIR = Path(os.environ.get("SPARK_EKS_PYSPARK_DIR") or PROJECT_ROOT / ".venv" / "pyspark")
SPARK_HOME = PYSPARK_DIR / "pyspark"
TARGET = Target("prod", "analytics", "4.0")


def _pyspark_version() -> str:
    for info in PYSPARK_DIR.glob("pyspark-*.dist-info"):
        return info.name.removeprefix("pyspark-").removesuffix(".dist-info")
    pytest.fail(f"no PySpark in {PYSPARK_DIR}: run `make pyspark` (the event-log checks cannot be skipped)")


def _submit(script: str, logs: Path, *conf: str, master: str = "local-cluster[1,1,1024]") -> subprocess.Popen:
    logs.mkdir(parents=True)
    args = [str(SPARK_HOME / "bin" / "spark-submit"), "--master", master]
    for item in (
        "spark.eventLog.enabled=true",
        f"spark.eventLog.dir=file://{logs}",
        "spark.executor.processTreeMetrics.enabled=true",
        "spark.executor.metrics.pollingInterval=50ms",
        "spark.ui.enabled=false",
        *conf,
    ):
        args += ["--conf", item]
    env = {
        **os.environ,
        "SPARK_HOME": str(SPARK_HOME),
        "PYSPARK_PYTHON": sys.executable,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(PYSPARK_DIR), os.environ.get("PYTHONPATH")])),
    }
    return subprocess.Popen([*args, str(JOBS / script)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


@pytest.fixture(scope="module")
def logs(tmp_path_factory):
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        pytest.fail("Java is needed to run the PySpark jobs that write the event logs")
    _pyspark_version()
    root = tmp_path_factory.mktemp("eventlogs")
    runs = {
        # 1 executor, 512m heap, a tenth of it for storage and execution: the cached data cannot fit.
        "cache": _submit("cache_large.py", root / "cache", "spark.executor.memory=512m", "spark.memory.fraction=0.1"),
        # 2 executors of 1 core and 1g; one task at a time with pauses.
        "idle": _submit(
            "mostly_idle.py",
            root / "idle",
            "spark.executor.memory=1g",
            "spark.executor.instances=2",
            "spark.eventLog.rolling.enabled=false",
            "spark.eventLog.compress=true",
            "spark.eventLog.compression.codec=lz4",
            master="local-cluster[2,1,1024]",
        ),
        "snappy": _submit("tiny.py", root / "snappy", "spark.eventLog.rolling.enabled=false", "spark.eventLog.compression.codec=snappy", master="local[1]"),
        "lzf": _submit("tiny.py", root / "lzf", "spark.eventLog.rolling.enabled=false", "spark.eventLog.compression.codec=lzf", master="local[1]"),
        "plain": _submit("tiny.py", root / "plain", "spark.eventLog.rolling.enabled=false", "spark.eventLog.compress=false", master="local[1]"),
    }
    for name, process in runs.items():
        output, _ = process.communicate(timeout=900)
        assert process.returncode == 0, f"{name} job failed:\n{output[-3000:]}"
    return {name: next(p for p in (root / name).iterdir() if not p.name.startswith(".")) for name in runs}


def _pool():
    from sparkeks.config.karpenter import ExecutorPoolConfig

    return ExecutorPoolConfig().instance_types()


def test_spark_writes_the_formats_the_reader_expects(logs):
    assert logs["cache"].is_dir() and logs["cache"].name.startswith("eventlog_v2_")
    assert [codec_of(p) for p in logs["cache"].iterdir() if p.name.startswith("events_")] == ["zstd"]
    assert (codec_of(logs["idle"]), codec_of(logs["snappy"]), codec_of(logs["lzf"]), codec_of(logs["plain"])) == ("lz4", "snappy", "lzf", None)


@pytest.mark.parametrize("name", ["cache", "idle", "snappy", "lzf", "plain"])
def test_every_format_reads_to_the_same_kind_of_application(logs, name):
    app = read_event_log(logs[name])
    assert app.app_id.startswith(("app-", "local-"))
    assert app.spark_version == _pyspark_version()
    assert app.app_name in ("cache-large", "mostly-idle", "tiny")
    assert app.end_ms and app.start_ms and app.end_ms > app.start_ms


def test_a_job_that_caches_more_than_fits_gets_more_memory(logs):
    app = read_event_log(logs["cache"])
    rec = recommend(app, TARGET, _pool(), main_file="s3a://jobs/cache_large.py")
    o = rec.observed
    # Storage and execution memory ran full (a tenth of a 512m heap).
    assert o.unified_max_mib == pytest.approx(21.2, abs=0.5)
    assert o.unified_peak_mib >= 0.9 * o.unified_max_mib
    assert rec.needed_heap_mib == 1024  # doubled from the 512m asked for
    assert parse_memory_mib(rec.spec["executor"]["memory"]) >= 1024
    assert any(r.startswith("heap doubled: storage + execution memory peaked at") for r in rec.reasons)
    assert rec.spec["type"] == "Python" and rec.spec["name"] == "cache-large"


def test_a_mostly_idle_job_gets_fewer_executors_and_dynamic_allocation(logs):
    app = read_event_log(logs["idle"])
    rec = recommend(app, TARGET, _pool(), main_file="s3a://jobs/mostly_idle.py")
    o = rec.observed
    assert rec.requested["instances"] == 2 and rec.requested["memory_mib"] == 1024
    assert o.executors_max == 2
    assert o.peak_tasks == 1
    assert o.busy < 0.2
    assert rec.spec["executor"]["instances"] == 1
    assert rec.spec["dynamicAllocation"] is True
    # Heap use was a fraction of the 1g asked for: the need is below it (raised again only to fill a node).
    assert rec.needed_heap_mib < 1024
    assert o.heap_peak_mib < 512


def test_cli_prints_spec_and_report(logs, tmp_path):
    out = tmp_path / "spec.yaml"
    result = subprocess.run(
        [sys.executable, "-m", "sparkeks", "migrate", "event-log", "--stack", "prod", "--team", "analytics", str(logs["idle"]),
         "--main-file", "s3a://jobs/mostly_idle.py", "--out", str(out)],
        capture_output=True, text=True, cwd=PROJECT_ROOT,
    )
    assert result.returncode == 0, result.stderr
    spec = yaml.safe_load(out.read_text())
    assert spec["executor"]["instances"] == 1 and spec["mainApplicationFile"] == "s3a://jobs/mostly_idle.py"
    lines = result.stderr.splitlines()
    assert lines[0].startswith("observed over ")
    assert any(line.startswith("  executors     requested 2 x 1 cores; ran at most 2 at once") for line in lines)
    assert "instance type  executors/node  CPU used  memory used" in lines


def test_the_recorded_application_file_is_used_and_flagged_when_local(logs):
    rec = recommend(read_event_log(logs["idle"]), TARGET, _pool())
    assert rec.spec["mainApplicationFile"] == str(JOBS / "mostly_idle.py")
    assert rec.reasons[0] == f"application file {JOBS / 'mostly_idle.py'}: not reachable from Kubernetes; copy it to S3 and use its s3a:// path"


def _cli(path: Path):
    return subprocess.run(
        [sys.executable, "-m", "sparkeks", "migrate", "event-log", "--stack", "prod", "--team", "analytics", str(path)],
        capture_output=True, text=True, cwd=PROJECT_ROOT,
    )


@pytest.mark.parametrize(
    ("make", "line"),
    [
        (lambda d: d / "missing.log", "{p}: no such file or directory"),
        (lambda d: _write(d / "app.log", b"\x00\x01\x02binary"), "{p}: not a Spark event log (line 1 is not JSON)"),
        (lambda d: _write(d / "app.log", b'{"hello": "world"}\n'), '{p}: not a Spark event log (line 1 has no "Event")'),
        (lambda d: _write(d / "app.log", b"\xff\xfe garbage"), "{p}: not a Spark event log (not UTF-8 JSON lines; compressed event logs end in .lz4, .lzf, .snappy or .zstd)"),
        (lambda d: _write(d / "app.zstd", b"not zstd at all"), None),
        (lambda d: _write(d / "app.lz4", b"not lz4"), "{p}: not a lz4-compressed Spark event log (not an LZ4Block stream)"),
        (lambda d: _write(d / "app.snappy", b"not snappy"), "{p}: not a snappy-compressed Spark event log (no snappy-java stream header)"),
        (lambda d: _write(d / "app.lzf", b"not lzf"), "{p}: not a lzf-compressed Spark event log (not an LZF chunk stream)"),
        (lambda d: _write(d / "app.log", b""), "{p}: an empty event log"),
        (lambda d: _write(d / "app.log", b'{"Event":"SparkListenerLogStart","Spark Version":"4.0.4"}\n'), "{p}: a Spark event log without an application start; is it complete?"),
        (lambda d: _mkdir(d / "empty"), "{p}: an empty directory; give an event log file or an eventlog_v2_* directory"),
        (lambda d: _mkdir(d / "eventlog_v2_app-1"), "{p}: a rolling event log directory without events_<n>_* files"),
        (lambda d: _two(d / "two"), "{p}: holds 2 event logs; give one application's file or eventlog_v2_* directory"),
    ],
)
def test_unreadable_or_foreign_input_is_one_line_and_exit_2(tmp_path, make, line):
    path = make(tmp_path)
    result = _cli(path)
    assert result.returncode == 2
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    [only] = result.stderr.splitlines()
    if line is None:
        assert only.startswith(f"{path}: not a zstd-compressed Spark event log (")
    else:
        assert only == line.format(p=path)
    with pytest.raises(EventLogError):
        read_event_log(path)


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _mkdir(path: Path) -> Path:
    path.mkdir()
    return path


def _two(path: Path) -> Path:
    path.mkdir()
    (path / "a.log").write_text("{}")
    (path / "b.log").write_text("{}")
    return path
