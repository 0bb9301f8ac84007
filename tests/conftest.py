"""Shared fixtures: offline plans of the shipped stacks, and throw-away projects for config variants."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml

from sparkeks import conformance
from sparkeks.plan.runner import Plan, run_plan

# The checkout under test: the project the shipped stacks are planned from (the tests run inside it).
PROJECT_ROOT = Path(__file__).resolve().parents[1]
# What a throw-away project shares with the checkout: the program, the code, and the project files it reads.
_PROJECT_ENTRIES = ("Pulumi.yaml", "__main__.py", "components", "sparkeks", "helm-values", "dashboards", "images")
PULL_THROUGH_SECRET = "arn:aws:secretsmanager:us-east-1:111122223333:secret:ecr-pullthroughcache/"
# A private cluster's network section: no NAT, the endpoints nodes need, the pull-through cache's secrets.
PRIVATE_NETWORK = {
    "natStrategy": "none",
    "interfaceEndpoints": ["ec2", "ecr.api", "ecr.dkr", "eks-auth", "sqs", "ssm", "sts"],
    "pullThroughCredentials": {"dockerHub": f"{PULL_THROUGH_SECRET}docker-hub-AbCdEf", "github": f"{PULL_THROUGH_SECRET}github-AbCdEf"},
}


def built_image_pins() -> dict[str, Any]:
    """Pins as they are once the images workflow has built every line. The values are SHA-256 of labels
    (test data, not real artifacts): the shipped images/pins.json has no image digests until a build."""
    from sparkeks.images import LinePins
    from sparkeks.versions import SPARK_RUNTIMES

    def sha(label: str) -> str:
        return hashlib.sha256(label.encode()).hexdigest()

    return {
        line: LinePins(
            base_digest=f"sha256:{sha(f'test base image {line}')}",
            jars={c: sha(f"test jar {c}") for c in runtime.jars},
            image_digest=f"sha256:{sha(f'test platform image {line}')}",
            built_from=sha(f"test build inputs {line}"),
        )
        for line, runtime in SPARK_RUNTIMES.items()
    }


def pytest_configure(config):
    # The pinned CRD schemas beside the checkout, also for the throw-away projects the tests plan elsewhere.
    os.environ.setdefault("SPARK_EKS_SCHEMAS", str(PROJECT_ROOT.parent / "shared" / "schemas"))
    # Plans, jobs and CLI runs in the tests see built images; tests of the shipped (unbuilt) state load
    # images/pins.json explicitly.
    from sparkeks import images

    path = Path(tempfile.mkdtemp(prefix="spark-eks-pins-")) / "pins.json"
    images.write_pins(built_image_pins(), path)
    os.environ[images.PINS_ENV] = str(path)
    # Costs in the tests come from the hand-pinned figures, or from fixture tables a test sets up: the
    # Price List tables the prices workflow writes change with every refresh.
    from sparkeks.cost import prices

    os.environ[prices.TABLES_ENV] = tempfile.mkdtemp(prefix="spark-eks-price-tables-")


class PlanView:
    """Query helpers over a Plan: resources by type/name, following ids between them."""

    def __init__(self, plan: Plan):
        self.plan = plan
        self.by_ref = {f"{r['type']}::{r['name']}": r for r in plan.resources}

    def of_type(self, typ: str) -> list[dict[str, Any]]:
        return [r for r in self.plan.resources if r["type"] == typ]

    def one(self, typ: str, name: str | None = None) -> dict[str, Any]:
        found = [r for r in self.of_type(typ) if name is None or r["name"] == name]
        assert len(found) == 1, f"expected one {typ} {name or ''}, found {[r['name'] for r in found]}"
        return found[0]

    def of_type_prefix(self, prefix: str) -> list[dict[str, Any]]:
        return [r for r in self.plan.resources if r["type"].startswith(prefix)]

    def id_of(self, resource: dict[str, Any]) -> str:
        return self.plan.ids[f"{resource['type']}::{resource['name']}"]

    def by_id(self, typ: str, resource_id: str) -> dict[str, Any]:
        matches = [r for r in self.of_type(typ) if self.id_of(r) == resource_id]
        assert len(matches) == 1, f"no single {typ} with id {resource_id}"
        return matches[0]


@pytest.fixture(scope="session")
def dev() -> PlanView:
    return PlanView(run_plan("dev"))


@pytest.fixture(scope="session")
def prod() -> PlanView:
    return PlanView(run_plan("prod"))


# A shipped stack with the Celeborn remote shuffle service on (no shipped stack turns it on by default).
CELEBORN_SHUFFLE = {"shuffle": {"service": "celeborn"}}


@pytest.fixture(scope="session")
def celeborn_project(tmp_path_factory) -> Path:
    """prod with `spark.shuffle.service: celeborn`, as a project jobs can name (`stack: prod`)."""
    return make_project(tmp_path_factory.mktemp("celeborn"), {"prod": with_overrides(stack_config("prod"), spark=CELEBORN_SHUFFLE)})


@pytest.fixture(scope="session")
def celeborn(celeborn_project) -> PlanView:
    return PlanView(run_plan("prod", celeborn_project))


def stack_config(stack: str) -> dict[str, Any]:
    return yaml.safe_load((PROJECT_ROOT / "stacks" / f"Pulumi.{stack}.yaml").read_text())["config"]


def make_project(root: Path, stacks: dict[str, dict[str, Any]]) -> Path:
    """A project dir that shares the real code but has its own stack files."""
    root.mkdir(parents=True, exist_ok=True)
    for entry in _PROJECT_ENTRIES:
        (root / entry).symlink_to(PROJECT_ROOT / entry)
    (root / "stacks").mkdir()
    for name, config in stacks.items():
        (root / "stacks" / f"Pulumi.{name}.yaml").write_text(yaml.safe_dump({"config": config}, sort_keys=False))
    return root


def copy_of_the_project(dest: Path) -> Path:
    """The checkout's files without its virtualenv, git data, build output and caches (to build or install)."""
    ignore = shutil.ignore_patterns(".venv", ".git", "build", "node_modules", "__pycache__", "*.egg-info", ".pytest_cache")
    shutil.copytree(PROJECT_ROOT, dest, ignore=ignore, symlinks=True)
    return dest


def build_wheel(source: Path, dist: Path) -> Path:
    """The wheel of the project at `source`, built offline with the build backend already in this virtualenv."""
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "--no-index", "--wheel-dir", str(dist), str(source)],
        capture_output=True,
        text=True,
        cwd=dist.parent,
    )
    assert build.returncode == 0, build.stderr
    [wheel] = dist.glob("spark_on_eks-*.whl")
    return wheel


def written_plan(tmp_path: Path, name: str, config: dict[str, Any], stack: str = "prod") -> Path:
    """Plan `config` as `stack` in a throw-away project and write it to `<tmp_path>/plan-<name>` (for diffs)."""
    from sparkeks.plan.writer import write_plan

    project = make_project(tmp_path / f"project-{name}", {stack: config})
    out = tmp_path / f"plan-{name}"
    write_plan(run_plan(stack, project), out)
    return out


def with_overrides(base: dict[str, Any], **sections: dict[str, Any]) -> dict[str, Any]:
    """Copy of a stack config with `spark-on-eks:<section>` keys merged (one level deep)."""
    config = {k: (dict(v) if isinstance(v, dict) else v) for k, v in base.items()}
    for section, values in sections.items():
        key = f"spark-on-eks:{section}"
        if isinstance(values, dict) and isinstance(config.get(key), dict):
            config[key] = {**config[key], **values}
        else:
            config[key] = values
    return config


@pytest.fixture
def plan_variant(tmp_path):
    """Plan a variant of a shipped stack: plan_variant("dev", network={"natStrategy": "none", ...})."""
    counter = iter(range(1000))

    def run(base_stack: str, **sections: dict[str, Any]) -> PlanView:
        config = with_overrides(stack_config(base_stack), **sections)
        project = make_project(tmp_path / f"project-{next(counter)}", {base_stack: config})
        return PlanView(run_plan(base_stack, project))

    return run


def schemas_dir() -> Path:
    path = conformance.schemas_dir()
    if not (path / "INDEX.md").is_file():
        pytest.fail(
            f"upstream schemas not found at {path}: set SPARK_EKS_SCHEMAS or put ../shared beside the project. "
            "Conformance tests never skip."
        )
    return path
