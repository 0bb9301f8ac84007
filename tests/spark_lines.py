"""Real PySpark for every supported Spark line, for the tests that run Spark on this machine.

One directory per line, each put on a job's PYTHONPATH: the newest line's is `make pyspark`'s
(requirements-pyspark.txt, in .venv/pyspark, or SPARK_EKS_PYSPARK_DIR); every older line's is installed
into .venv/spark/<version>/ by `python -m tests.spark_lines install` (`make spark-lines`, part of
`make tools`), at the version sparkeks/versions.py pins. The tests run the oldest and the newest line
(their metrics differ); a new line in versions.py needs no edit here.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from sparkeks.versions import NEWEST_SPARK, OLDEST_SPARK, SPARK_RUNTIMES
from tests.conftest import PROJECT_ROOT

NEWEST_DIR = Path(os.environ.get("SPARK_EKS_PYSPARK_DIR") or PROJECT_ROOT / ".venv" / "pyspark")
OLDER_DIR = PROJECT_ROOT / ".venv" / "spark"
# Need Maven Central (jars) or AWS (S3A); everything else runs as the platform sets it.
OFFLINE_UNAVAILABLE = ("spark.plugins", "spark.hadoop.fs.s3a.")


def oldest_and_newest() -> list[str]:
    return list(dict.fromkeys([OLDEST_SPARK, NEWEST_SPARK]))


def install_dir(line: str) -> Path:
    return NEWEST_DIR if line == NEWEST_SPARK else OLDER_DIR / SPARK_RUNTIMES[line].spark_version


def installed_version(directory: Path) -> str | None:
    for info in directory.glob("pyspark-*.dist-info"):
        return info.name.removeprefix("pyspark-").removesuffix(".dist-info")
    return None


def job_env(line: str) -> dict[str, str]:
    """Environment for a Python process running `line`'s PySpark; fails in CI, skips elsewhere, when
    that PySpark is not installed."""
    version = SPARK_RUNTIMES[line].spark_version
    directory = install_dir(line)
    found = installed_version(directory)
    if found != version:
        how = "make pyspark" if line == NEWEST_SPARK else "make spark-lines"
        message = f"Spark {line} needs pyspark {version} in {directory} (found {found or 'none'}): run `{how}`"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    env = {**os.environ, "SPARK_LOCAL_IP": "127.0.0.1", "PYSPARK_PYTHON": sys.executable}
    env.pop("SPARK_HOME", None)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(directory), os.environ.get("PYTHONPATH")]))
    return env


def local_conf(conf: dict[str, str], root: Path, bucket: str) -> dict[str, str]:
    """The platform's Spark settings as they run on this machine: file:// for the bucket, minus what
    needs the network."""
    return {
        key: value.replace(f"s3a://{bucket}/", f"file://{root}/")
        for key, value in conf.items()
        if not key.startswith(OFFLINE_UNAVAILABLE)
    }


def install() -> int:
    """pip-install the pyspark (with its own py4j) of every older line the tests run into its own directory."""
    for line in oldest_and_newest():
        version = SPARK_RUNTIMES[line].spark_version
        if line == NEWEST_SPARK or installed_version(install_dir(line)) == version:
            continue
        print(f"installing pyspark {version} for Spark {line} into {install_dir(line)}", flush=True)
        command = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--upgrade"]
        subprocess.run([*command, "--target", str(install_dir(line)), f"pyspark=={version}"], check=True)
    return 0


if __name__ == "__main__":
    if sys.argv[1:] != ["install"]:
        sys.exit("usage: python -m tests.spark_lines install")
    sys.exit(install())
