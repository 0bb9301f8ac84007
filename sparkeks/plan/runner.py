"""Run the real Pulumi program (`__main__.py`) against the simulated account, no engine needed.

The stack's YAML file is read the way the Pulumi CLI reads it and handed to the program as raw config,
so the program cannot tell the difference, and invalid config fails here exactly as under `pulumi up`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import runpy
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from sparkeks.project import current_project, project_at

# Stands in for secure config values: the offline plan cannot decrypt them and never prints them. Each
# key gets its own (`...[spark-on-eks:grafanaAdminPassword]`), so the plan can tell which resources use it.
SECRET_PLACEHOLDER = "offline-plan-secret-placeholder"


def secret_fingerprint(stored: Any) -> str:
    """What the plan records of a secret: a digest of its ciphertext as the stack file stores it.

    The plan cannot decrypt, and must not: a digest of the plain value would let anyone with the plan
    try guesses offline until one matches (fatal for a short password), and a keyed digest needs a key
    that CI and every reviewer share. The ciphertext is already public in the repository and carries a
    random nonce, so its digest reveals nothing, yet it changes whenever `pulumi config set --secret`
    stores a new value. (Storing the same value again also changes it: the diff then says "changed
    (secret)" for a re-encryption, an honest over-report.)
    """
    return "sha256:" + hashlib.sha256(json.dumps(stored, sort_keys=True).encode()).hexdigest()[:16]


# Pulumi's own rule for stack names (the file name is derived from it, so nothing else may pass).
STACK_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")


class PlanError(Exception):
    """The plan could not be made; `lines` are for the user, `exit_code` for the shell."""

    def __init__(self, lines: list[str], exit_code: int = 2, registered: int = 0):
        self.lines = lines
        self.exit_code = exit_code
        self.registered = registered
        """How many resources the program had registered before it stopped (0 for config errors)."""
        super().__init__("\n".join(lines))


@dataclass
class StackInput:
    project: str
    stack: str
    config: dict[str, str]
    secret_keys: list[str]
    secrets: dict[str, str]
    """secret key -> fingerprint of its stored ciphertext"""


@dataclass
class Plan:
    project: str
    stack: str
    resources: list[dict[str, Any]]
    outputs: dict[str, Any]
    ids: dict[str, str]
    """`type::name` -> the id the simulated account gave it (for tests that follow references)."""
    secrets: dict[str, str] | None = None
    """secret config key -> fingerprint of its stored ciphertext (see `secret_fingerprint`)"""
    config: Any = None
    """The validated StackConfig the program ran with (for the cost estimate)."""
    notes: list[str] | None = None
    """Lines for the summary: what the strict validation of the objects covered."""


def _strip_secure(value: Any, placeholder: str = SECRET_PLACEHOLDER) -> tuple[Any, bool]:
    """Replace `{secure: ...}` values (at any depth) with a placeholder; say whether any was found."""
    if isinstance(value, dict):
        if set(value) == {"secure"}:
            return placeholder, True
        found = False
        out = {}
        for k, v in value.items():
            out[k], inner = _strip_secure(v, placeholder)
            found |= inner
        return out, found
    if isinstance(value, list):
        pairs = [_strip_secure(v, placeholder) for v in value]
        return [v for v, _ in pairs], any(f for _, f in pairs)
    return value, False


def _as_config_string(value: Any) -> str:
    # The CLI passes strings as-is and everything else JSON-encoded.
    return value if isinstance(value, str) else json.dumps(value)


def read_stack(stack: str, project_dir: Path | None = None) -> StackInput:
    """The stack file of `stack` in `project_dir` (default: the current project, sparkeks/project.py)."""
    project_dir = project_dir or current_project()
    if not STACK_NAME.match(stack):
        raise PlanError([f"stack: {json.dumps(stack)}: not a stack name; use letters, digits, hyphens, underscores and periods"])
    project_file = yaml.safe_load((project_dir / "Pulumi.yaml").read_text())
    project = project_file["name"]
    config_dir = project_dir / project_file.get("stackConfigDir", ".")
    path = config_dir / f"Pulumi.{stack}.yaml"
    if not path.is_file():
        known = sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in config_dir.glob("Pulumi.*.yaml"))
        raise PlanError([f"{path.relative_to(project_dir)}: no such stack file; stacks: {', '.join(known) or 'none'}"])
    from sparkeks.config.files import InputFileError, read_yaml
    from sparkeks.config.loader import stack_file_config

    label = str(path.relative_to(project_dir))
    try:
        raw = stack_file_config(read_yaml(path, label, under="config"), label)
    except InputFileError as err:
        raise PlanError(err.problems) from None
    config: dict[str, str] = {}
    secrets: dict[str, str] = {}
    for key, stored in raw.items():
        full_key = key if ":" in key else f"{project}:{key}"
        value, secret = _strip_secure(stored, f"{SECRET_PLACEHOLDER}[{full_key}]")
        config[full_key] = _as_config_string(value)
        if secret:
            secrets[full_key] = secret_fingerprint(stored)
    return StackInput(project=project, stack=stack, config=config, secret_keys=sorted(secrets), secrets=dict(sorted(secrets.items())))


def load_stack(stack: str, project_dir: Path | None = None):
    """Read and validate a stack file as the program would see it (PlanError or ConfigError when not;
    ProjectFileMissing when a check needs a project file, e.g. the DaemonSets' Helm values)."""
    from sparkeks.config.loader import load_stack_config

    project_dir = project_dir or current_project()
    stack_input = read_stack(stack, project_dir)
    with project_at(project_dir):
        return load_stack_config(stack, stack_input.config, stack_input.secret_keys)


def _tree_key(by_ref: dict[str, dict[str, Any]], resource: dict[str, Any]) -> tuple:
    path = []
    node: dict[str, Any] | None = resource
    while node is not None:
        path.append((node["type"], node["name"]))
        node = by_ref.get(node["parent"]) if node["parent"] else None
    return tuple(reversed(path))


def _pinned_account(config: dict[str, str]) -> str:
    """The simulated account is the one the stack pins with aws:allowedAccountIds, when it pins one."""
    from sparkeks.plan.cloud import ACCOUNT_ID

    try:
        accounts = json.loads(config.get("aws:allowedAccountIds", "[]"))
    except ValueError:
        return ACCOUNT_ID
    return accounts[0] if isinstance(accounts, list) and len(accounts) == 1 and isinstance(accounts[0], str) else ACCOUNT_ID


def _input_error_in_chain(err: BaseException):
    """The ConfigError or ProjectFileMissing that caused `err`, if any (chains can loop, so each link is
    visited once): both carry one line per problem for the user."""
    from sparkeks.config.loader import ConfigError
    from sparkeks.project import ProjectFileMissing

    seen: set[int] = set()
    node: BaseException | None = err
    while node is not None and id(node) not in seen:
        if isinstance(node, (ConfigError, ProjectFileMissing)):
            return node
        seen.add(id(node))
        node = node.__cause__ or node.__context__
    return None


def _referenced_stacks(stack_input: StackInput, project_dir: Path, seen: frozenset[str]) -> dict[str, dict[str, Any]]:
    """A DR stack reads its primary through a StackReference; offline, the primary's own offline plan
    answers it (planned first, in this process)."""
    try:
        dr = json.loads(stack_input.config.get(f"{stack_input.project}:dr", "null"))
    except ValueError:
        return {}
    if not isinstance(dr, dict) or not isinstance(dr.get("primaryStack"), str):
        return {}  # absent or malformed: config validation reports it
    reference = dr["primaryStack"]
    primary = reference.rsplit("/", 1)[-1]
    if primary in seen:
        raise PlanError([f"stacks/Pulumi.{stack_input.stack}.yaml: {stack_input.project}:dr.primaryStack: {json.dumps(reference)}: refers back to itself"])
    try:
        outputs = run_plan(primary, project_dir, _seen=seen | {primary}).outputs
    except PlanError as err:
        raise PlanError([f"stacks/Pulumi.{stack_input.stack}.yaml: {stack_input.project}:dr.primaryStack: {json.dumps(reference)}: its plan fails:", *err.lines]) from None
    return {reference: outputs}


def _refuse_invalid_objects(resources: list[dict[str, Any]], minor: str, registered: int) -> list[str]:
    """What the API server of the stack's Kubernetes minor would refuse fails the plan, not `pulumi up`
    halfway through (sparkeks/plan/strict.py); returns the summary's notes on what was checked."""
    from sparkeks.plan.strict import invalid_objects
    from sparkeks.plan.writer import is_manifest, manifest_of

    problems, notes = invalid_objects([manifest_of(r) for r in resources if is_manifest(r)], minor)
    if problems:
        raise PlanError(problems, registered=registered)
    return notes


def simulated_monitor(stack_input: StackInput, project_dir: Path | None = None, seen: frozenset[str] | None = None):
    """The monitor the program registers with offline: a PlanMonitor answering as the stack's simulated
    account (its region, its pinned account, the primary's plan for a DR stack)."""
    from sparkeks.plan.cloud import SimulatedAws
    from sparkeks.plan.monitor import PlanMonitor
    from sparkeks.regions import REGIONS

    referenced = _referenced_stacks(stack_input, project_dir or current_project(), seen or frozenset({stack_input.stack}))
    region = REGIONS.get(stack_input.config.get("aws:region", ""), REGIONS["us-east-1"])
    return PlanMonitor(SimulatedAws(region, _pinned_account(stack_input.config), referenced, stack=stack_input.stack))


def registered_resources(monitor) -> list[dict[str, Any]]:
    """What `monitor` recorded, as the plan's inventory lists resources (in registration order)."""
    return [
        {"type": r.type, "name": r.name, "parent": r.parent, "inputs": r.inputs, "options": r.options}
        | ({"secretConfig": r.secret_config} if r.secret_config else {})
        for r in monitor.registrations
    ]


@contextmanager
def without_source_positions() -> Iterator[None]:
    """The SDK captures each resource's stack trace (a stack walk, one file URI per frame) for the engine's
    diagnostics. No engine reads it offline, and it cost about a tenth of the program run, so the offline
    run registers resources without one; everything the plan records is the same."""
    from pulumi.runtime import resource as sdk_resource
    from pulumi.runtime.proto import source_pb2

    captured = sdk_resource._get_stack_trace
    sdk_resource._get_stack_trace = source_pb2.StackTrace
    try:
        yield
    finally:
        sdk_resource._get_stack_trace = captured


def run_plan(stack: str, project_dir: Path | None = None, *, _seen: frozenset[str] | None = None) -> Plan:
    """Execute the program for `stack` under the simulated account and return what it registered; the
    program and every check read the project files of `project_dir` (default: the current project)."""
    project_dir = (project_dir or current_project()).resolve()
    with project_at(project_dir, offline=True):
        return _run_plan(stack, project_dir, _seen)


def _run_plan(stack: str, project_dir: Path, _seen: frozenset[str] | None) -> Plan:
    stack_input = read_stack(stack, project_dir)

    from pulumi.runtime import config as runtime_config
    from pulumi.runtime import mocks, settings
    from pulumi.runtime.stack import run_in_stack
    from pulumi.runtime.sync_await import _sync_await

    from sparkeks.gc_policy import program_gc
    from sparkeks.plan.invariants import dr_problems
    from sparkeks.plan.monitor import urn_ref

    if problems := dr_problems(stack, stack_input.config, stack_input.secret_keys, project_dir):
        raise PlanError(problems)
    monitor = simulated_monitor(stack_input, project_dir, _seen)
    settings.configure(
        mocks.MockSettings(
            monitor=monitor,
            monitor_features=set(monitor.GetDeploymentInfo(None).supportedFeatures),
            engine=mocks.MockEngine(logging.getLogger("sparkeks.plan")),
            project=stack_input.project,
            stack=stack,
            dry_run=False,  # an update, not a preview: every output the simulated account returns is known
            organization="organization",
            callbacks=None,
            root_directory=str(project_dir),
        )
    )
    settings.ROOT.set(None)
    runtime_config.set_all_config(stack_input.config, stack_input.secret_keys)
    if str(project_dir) not in sys.path:
        sys.path.insert(0, str(project_dir))

    main = str(project_dir / "__main__.py")
    try:
        with program_gc(), without_source_positions():
            _sync_await(run_in_stack(lambda: runpy.run_path(main, run_name="__main__")))
    except Exception as err:  # noqa: BLE001 - config errors become user messages, the rest propagates
        cause = _input_error_in_chain(err)
        if cause is not None:
            raise PlanError(cause.problems, registered=len(monitor.registrations)) from None
        raise

    resources = registered_resources(monitor)
    config = load_stack(stack, project_dir)
    notes = _refuse_invalid_objects(resources, config.cluster.kubernetes_version, registered=len(monitor.registrations))
    # The platform must fit its fixed-size nodes: refused like invalid config, one line per problem.
    from sparkeks.capacity.check import capacity_problems

    stack_file = f"stacks/Pulumi.{stack}.yaml"
    problems = capacity_problems(resources, stack_file, stack_input.project)
    if problems:
        raise PlanError(problems, registered=len(monitor.registrations))
    by_ref = {f"{r['type']}::{r['name']}": r for r in resources}
    resources.sort(key=lambda r: _tree_key(by_ref, r))
    ids = {urn_ref(urn): registration.id for urn, registration in monitor.resources.items()}
    return Plan(
        project=stack_input.project,
        stack=stack,
        resources=resources,
        outputs=monitor.stack_outputs,
        ids=ids,
        secrets=stack_input.secrets,
        config=config,
        notes=notes,
    )
