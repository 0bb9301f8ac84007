"""Turn a stack's raw Pulumi config into a validated `StackConfig`, or one error line per problem.

Pulumi hands a program its config as strings, with structured values JSON-encoded. The same raw form
comes from the Pulumi CLI (`pulumi up`) and from the offline plan, so both report identical errors:

    stacks/Pulumi.dev.yaml: spark-on-eks:network.natStrategy: "perzone": must be one of 'perZone', 'single' or 'none'
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Collection, Mapping
from typing import Any

from pydantic import ValidationError

from sparkeks.config.errors import dotted, key_part, problem_lines, render
from sparkeks.config.files import InputFileError, kind_of
from sparkeks.config.model import PROJECT, StackConfig
from sparkeks.regions import REGIONS

# Keys of the AWS provider's own namespace that the model reads.
_PROVIDER_KEYS = ("region", "allowedAccountIds")
# Top-level keys whose values are plain strings even when they look like JSON numbers.
_STRING_KEYS = {"environment", "clusterName"}


class ConfigError(Exception):
    """Invalid stack configuration; `problems` holds one ready-to-print line per problem."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


def stack_file(stack: str) -> str:
    return f"stacks/Pulumi.{stack}.yaml"


# Top-level keys of a Pulumi stack file (`Pulumi.<stack>.yaml`).
_STACK_FILE_KEYS = ("config", "encryptedkey", "encryptionsalt", "environment", "secretsprovider")


def stack_file_config(document: Any, label: str) -> dict[str, Any]:
    """The `config:` mapping of a parsed stack file; a file of another shape is InputFileError lines."""
    if document is None:
        return {}
    if not isinstance(document, dict):
        raise InputFileError(
            [f"{label}: (top level): {kind_of(document)}: must be a mapping with a `config:` key, like `config: {{aws:region: us-east-1}}`"]
        )
    problems = []
    for key in document:
        if key not in _STACK_FILE_KEYS:
            close = difflib.get_close_matches(str(key), _STACK_FILE_KEYS, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            problems.append(
                f"{label}: {key_part(key)}: {render(document[key])}: unknown top-level key of a stack file; {hint}allowed: {', '.join(_STACK_FILE_KEYS)}"
            )
    raw = document.get("config")
    if raw is None:
        raw = {}
    elif not isinstance(raw, dict):
        problems.append(f"{label}: config: {kind_of(raw)}: must be a mapping of keys to values, like `aws:region: us-east-1`")
        raw = {}
    for key in raw:
        if not isinstance(key, str):
            problems.append(
                f"{label}: {json.dumps(key, default=str)}: {kind_of(key)} as a key: config keys are words like spark-on-eks:network"
            )
    if problems:
        raise InputFileError(problems)
    return raw


def _decode(name: str, value: Any) -> Any:
    if not isinstance(value, str) or name in _STRING_KEYS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def _key(path: list[str | int]) -> str:
    if path and path[0] in _PROVIDER_KEYS:
        return f"aws:{dotted(path)}"
    return f"{PROJECT}:{dotted(path)}"


# Namespaces a stack file may use: the program's own, the AWS provider's (only the keys the program
# reads: its provider is explicit and takes nothing else from stack config) and the engine's own.
_NAMESPACES = (PROJECT, "aws", "pulumi")
_AWS_HINTS = {
    "profile": "the program's AWS provider does not read it; set AWS_PROFILE in the environment instead",
    "accessKey": "credentials never go into stack files; use AWS_PROFILE or the environment",
    "secretKey": "credentials never go into stack files; use AWS_PROFILE or the environment",
}


def _unknown_key_problem(stack: str, full_key: str, value: Any) -> str | None:
    """A line for a key in a namespace the program does not read (a typo there is otherwise ignored)."""
    namespace, colon, name = full_key.partition(":")
    key = key_part(full_key)
    shown = "[not shown]" if namespace == "aws" and name in ("accessKey", "secretKey", "token") else render(value)
    if colon and namespace not in _NAMESPACES:
        close = difflib.get_close_matches(namespace, _NAMESPACES, n=1, cutoff=0.6)
        hint = f"did you mean '{close[0]}:{name}'? " if close else ""
        return f"{stack_file(stack)}: {key}: {shown}: unknown namespace {namespace!r}; {hint}namespaces read: {', '.join(_NAMESPACES)}"
    if namespace == "aws" and name not in _PROVIDER_KEYS:
        if name in _AWS_HINTS:
            return f"{stack_file(stack)}: {key}: {shown}: {_AWS_HINTS[name]}"
        close = difflib.get_close_matches(name, _PROVIDER_KEYS, n=1)
        hint = f"did you mean 'aws:{close[0]}'? " if close else ""
        return f"{stack_file(stack)}: {key}: {shown}: unknown key; {hint}aws keys read: {', '.join('aws:' + k for k in _PROVIDER_KEYS)}"
    if not name:
        return f"{stack_file(stack)}: {key}: {shown}: a key needs a name after the namespace, like {namespace}:network"
    if namespace == PROJECT and name in _PROVIDER_KEYS:
        return f"{stack_file(stack)}: {key}: {shown}: unknown key; did you mean 'aws:{name}'? (the AWS provider's own key)"
    return None


def secret_capable_keys() -> set[str]:
    """Top-level keys whose model fields are built to carry secrets (and are handled as Pulumi secrets)."""
    return {
        field.alias or name
        for name, field in StackConfig.model_fields.items()
        if (field.json_schema_extra or {}).get("secret")  # type: ignore[union-attr]
    }


def load_stack_config(stack: str, raw: Mapping[str, Any], secret_keys: Collection[str] = ()) -> StackConfig:
    """Validate raw config (`{"aws:region": "us-east-1", "spark-on-eks:network": "{...}"}`).

    `secret_keys` are the keys Pulumi holds encrypted. Only settings built for secrets may be secret:
    anything else would be copied in clear into resource inputs and state, so it is refused.
    """
    data: dict[str, Any] = {}
    problems: list[str] = []
    allowed_secrets = secret_capable_keys()
    for full_key, value in raw.items():
        namespace, _, name = full_key.partition(":")
        if (unknown := _unknown_key_problem(stack, full_key, value)) is not None:
            problems.append(unknown)
        elif full_key == "aws:region":
            data["region"] = value
        elif full_key == "aws:allowedAccountIds":
            data["allowedAccountIds"] = _decode(name, value)
        elif namespace == PROJECT:
            data[name] = _decode(name, value)
            if name in allowed_secrets and full_key not in secret_keys:
                problems.append(
                    f"{stack_file(stack)}: {full_key}: [not shown]: is a secret and must be stored encrypted: "
                    f"`pulumi config set --secret {full_key}`"
                )
            if full_key in secret_keys and name not in allowed_secrets:
                problems.append(
                    f"{stack_file(stack)}: {key_part(full_key)}: [secret]: is not a secret setting and would be stored in clear; "
                    f"set it without --secret (settings that take secrets: {', '.join(sorted(allowed_secrets)) or 'none yet'})"
                )
                # Its value stands for ciphertext the plan cannot read: checking it would only print the stand-in.
                del data[name]
    region = REGIONS.get(data.get("region", ""))
    if "region" not in data:
        problems.append(f"{stack_file(stack)}: aws:region: (missing): is required, e.g. `pulumi config set aws:region us-east-1`")
    elif region is None:
        problems.append(
            f"{stack_file(stack)}: aws:region: {render(data['region'])}: unknown region; known: {', '.join(sorted(REGIONS))}"
        )
    # Validate the rest even when the region is bad, so every problem is reported at once.
    data.setdefault("region", next(iter(REGIONS)) if region is None else region.name)
    # Sections left out still go through validation, so defaults that depend on the region resolve.
    data.setdefault("network", {})
    try:
        config = StackConfig.model_validate(data, context={"region": region})
    except ValidationError as err:
        problems += problem_lines(stack_file(stack), err, StackConfig, _key, hidden=_PROVIDER_KEYS)
        raise ConfigError(problems) from None
    if problems:
        raise ConfigError(problems)
    return config


def unavailable_zone_problems(stack: str, zones: list[str], available: list[str], region: str, account_id: str) -> list[str]:
    """Zone names differ per account: the ones the stack names must be available to this account."""
    missing = [z for z in zones if z not in available]
    if not missing:
        return []
    return [
        f"{stack_file(stack)}: {PROJECT}:network.zones: {render(missing)}: not available to account {account_id} "
        f"in {region}; available there: {', '.join(available)}"
    ]


def runtime_config() -> tuple[dict[str, Any], set[str]]:
    """All config the Pulumi engine passed this program (raw key -> string), and which keys are secret."""
    from pulumi.runtime import config as runtime

    raw = {**runtime.get_config_env(), **runtime.CONFIG.get()}
    secret = set(runtime.get_config_secret_keys_env()) | set(runtime._SECRET_KEYS.get())
    return raw, secret
