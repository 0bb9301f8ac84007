"""Add-on configuration values checked against the schema EKS itself applies.

EKS validates an add-on's `configurationValues` against a JSON schema it publishes per add-on build
(`aws eks describe-addon-configuration`, the `configurationSchema` field), and only at apply time. That
schema is not a file anywhere upstream and the offline plan cannot reach the API, so the check is split:
`sparkeks addons list` names the add-on builds a plan configures, the preview workflow fetches their
schemas with the AWS CLI into a folder, and `sparkeks addons check` validates every configuration in the
plan against them, one line per problem. A key the pinned build does not know fails the pull request, not
the `pulumi up` after it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ADDON = "aws:eks/addon:Addon"


@dataclass(frozen=True)
class AddonConfiguration:
    resource: str
    addon: str
    version: str
    values: dict[str, Any] | None
    """The parsed configurationValues, None when the add-on runs with its defaults."""

    @property
    def schema_file(self) -> str:
        return f"{self.addon}@{self.version}.json"


class AddonCheckError(Exception):
    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


def configurations(plan_dir: Path) -> list[AddonConfiguration]:
    inventory = plan_dir / "inventory.json"
    if not inventory.is_file():
        raise AddonCheckError([f"{inventory}: no plan here; run `python -m sparkeks plan <stack>` first"])
    found = []
    for resource in json.loads(inventory.read_text())["resources"]:
        if resource["type"] != ADDON:
            continue
        inputs = resource["inputs"]
        raw = inputs.get("configurationValues")
        found.append(AddonConfiguration(resource["name"], inputs["addonName"], inputs["addonVersion"], json.loads(raw) if raw else None))
    return sorted(found, key=lambda c: c.addon)


def fetch_command(configuration: AddonConfiguration, schemas_dir: str) -> str:
    return (
        f"aws eks describe-addon-configuration --addon-name {configuration.addon} --addon-version {configuration.version} "
        f"--query configurationSchema --output text > {schemas_dir}/{configuration.schema_file}"
    )


def _path(error: Any) -> str:
    return "configurationValues" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)


def problems(plan_dir: Path, schemas_dir: Path) -> list[str]:
    """One line per configuration value the pinned add-on build would refuse (or per schema missing)."""
    import jsonschema

    lines = []
    for configuration in configurations(plan_dir):
        if configuration.values is None:
            continue  # defaults: nothing of ours for EKS to refuse
        where = f"add-on {configuration.addon} {configuration.version} ({configuration.resource})"
        schema_path = schemas_dir / configuration.schema_file
        if not schema_path.is_file():
            lines.append(f"{where}: no schema at {schema_path}; fetch it with: {fetch_command(configuration, str(schemas_dir))}")
            continue
        try:
            schema = json.loads(schema_path.read_text())
        except ValueError as err:
            lines.append(f"{where}: {schema_path} is not JSON ({err}); fetch it again")
            continue
        validator = jsonschema.validators.validator_for(schema)(schema)
        for error in sorted(validator.iter_errors(configuration.values), key=lambda e: list(map(str, e.absolute_path))):
            lines.append(f"{where}: {_path(error)}: {error.message}")
    return lines
