"""The real-tool checks never pass silently in CI: a missing tool or PySpark line fails there, and only
skips (with the install line) on a developer machine."""

from __future__ import annotations

import pytest

from sparkeks.versions import OLDEST_SPARK, SPARK_RUNTIMES
from tests import spark_lines
from tests.real_tools import require


@pytest.fixture
def no_tools(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))


@pytest.mark.parametrize(("tool", "package"), [("promtool", "prometheus"), ("prometheus", "prometheus"), ("amtool", "prometheus-alertmanager")])
def test_a_missing_prometheus_tool_fails_in_ci(no_tools, monkeypatch, tool, package):
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception) as failed:
        require(tool)
    assert str(failed.value) == f"{tool} not found: apt-get install -y {package} (or `make tools`); CI must run this check"


def test_a_missing_tool_skips_outside_ci(no_tools, monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception) as skipped:
        require("amtool")
    assert str(skipped.value) == "amtool not found: apt-get install -y prometheus-alertmanager (or `make tools`)"


def test_a_missing_spark_line_fails_in_ci(monkeypatch, tmp_path):
    monkeypatch.setattr(spark_lines, "OLDER_DIR", tmp_path)
    monkeypatch.setenv("CI", "true")
    version = SPARK_RUNTIMES[OLDEST_SPARK].spark_version
    with pytest.raises(pytest.fail.Exception) as failed:
        spark_lines.job_env(OLDEST_SPARK)
    assert str(failed.value) == (
        f"Spark {OLDEST_SPARK} needs pyspark {version} in {tmp_path / version} (found none): run `make spark-lines`"
    )

