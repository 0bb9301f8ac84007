"""A mock resource monitor that records every registration the way the engine would receive it."""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from typing import Any

from google.protobuf import json_format, struct_pb2
from pulumi.runtime import rpc
from pulumi.runtime.mocks import MockMonitor

SECRET = "[secret]"
UNKNOWN = "[unknown]"
# The runner's per-key stand-in for a secure config value (see runner.SECRET_PLACEHOLDER).
_SECRET_SOURCE = re.compile(r"offline-plan-secret-placeholder\[([^\]]+)\]")


def urn_ref(urn: str) -> str:
    """`urn:pulumi:stack::project::parent$type::name` -> `type::name`."""
    if not urn:
        return ""
    _, _, qualified_type, name = urn.split("::", 3)
    return f"{qualified_type.split('$')[-1]}::{name}"


def _shaped(value: Any) -> Any:
    """Every leaf masked, the shape kept: a Secret's `stringData` stays a map, so the plan's manifests
    still validate against the API server's schema."""
    if isinstance(value, dict) and rpc._special_sig_key not in value:
        return {k: _shaped(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_shaped(v) for v in value]
    return SECRET


def _masked(value: Any, sources: set[str] | None) -> Any:
    """A secret, masked; which secret config keys it was made from goes into `sources`."""
    if sources is not None:
        sources.update(_SECRET_SOURCE.findall(json.dumps(value.get("value"))))
    return _shaped(value.get("value"))


def plain(value: Any, sources: set[str] | None = None) -> Any:
    """A wire value (Struct already turned into dicts) as plain JSON with secrets masked."""
    if isinstance(value, dict):
        sig = value.get(rpc._special_sig_key)
        if sig == rpc._special_secret_sig:
            return _masked(value, sources)
        if sig == rpc._special_resource_sig:
            return urn_ref(value.get("urn", ""))
        if sig == rpc._special_output_value_sig:
            if value.get("secret"):
                return _masked(value, sources)
            return plain(value["value"], sources) if "value" in value else UNKNOWN
        if sig == rpc._special_asset_sig or sig == rpc._special_archive_sig:
            return {k: plain(v, sources) for k, v in value.items() if k != rpc._special_sig_key}
        return {k: plain(v, sources) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v, sources) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if value == rpc.UNKNOWN:
        return UNKNOWN
    return value


def struct_to_plain(struct: struct_pb2.Struct, sources: set[str] | None = None) -> dict[str, Any]:
    return plain(json_format.MessageToDict(struct), sources)


@dataclass
class Registration:
    type: str
    name: str
    parent: str | None
    inputs: dict[str, Any]
    options: dict[str, Any]
    urn: str = ""
    secret_config: list[str] = field(default_factory=list)
    """Secret config keys its masked inputs were made from."""


class PlanMonitor(MockMonitor):
    """Records registrations; delegates creation to the simulated cloud (the `Mocks`)."""

    def __init__(self, mocks):
        super().__init__(mocks)
        self.registrations: list[Registration] = []
        self.stack_outputs: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._stack_urn = ""

    def RegisterResource(self, request):
        response = super().RegisterResource(request)
        if request.type == "pulumi:pulumi:Stack":
            self._stack_urn = response.urn
            return response
        options: dict[str, Any] = {
            "protect": bool(request.protect),
            "retainOnDelete": bool(request.retainOnDelete),
            "dependsOn": sorted({urn_ref(u) for u in request.dependencies}),
        }
        if request.provider:
            # A provider reference is `<provider urn>::<provider id>`.
            options["provider"] = urn_ref(request.provider.rsplit("::", 1)[0])
        if request.ignoreChanges:
            options["ignoreChanges"] = sorted(request.ignoreChanges)
        if request.replaceOnChanges:
            options["replaceOnChanges"] = sorted(request.replaceOnChanges)
        if request.deleteBeforeReplaceDefined:
            options["deleteBeforeReplace"] = bool(request.deleteBeforeReplace)
        if request.additionalSecretOutputs:
            options["additionalSecretOutputs"] = sorted(request.additionalSecretOutputs)
        sources: set[str] = set()
        self._record(request, response.urn, struct_to_plain(request.object, sources), options, sorted(sources))
        return response

    def ReadResource(self, request):
        """Reads (a StackReference, an existing resource) are part of the plan too."""
        response = super().ReadResource(request)
        options = {"protect": False, "retainOnDelete": False, "dependsOn": sorted({urn_ref(u) for u in request.dependencies}), "read": True}
        self._record(request, response.urn, {**struct_to_plain(request.properties), "id": request.id}, options)
        return response

    def _record(self, request, urn: str, inputs: dict[str, Any], options: dict[str, Any], secret_config: list[str] | None = None) -> None:
        parent = urn_ref(request.parent) or None
        if parent == urn_ref(self._stack_urn):
            parent = None  # top-level resources: the stack itself is not part of the plan
        record = Registration(request.type, request.name, parent, inputs, options, urn, secret_config or [])
        with self._lock:
            self.registrations.append(record)

    def RegisterResourceOutputs(self, request):
        if request.urn == self._stack_urn:
            with self._lock:
                self.stack_outputs = struct_to_plain(request.outputs)
        return super().RegisterResourceOutputs(request)
