"""The floor for the plan benchmark: the same resources, registered flat under plain Pulumi mocks.

It reads an inventory.json written by `python -m sparkeks plan` and registers every resource once,
through the same typed SDK classes (same types, names and inputs), with no config validation, no
components, no simulated account and no plan files. What the real plan costs above this is the
project's own overhead.

Usage: python bench/flat_program.py build/plan/prod/inventory.json
"""

from __future__ import annotations

import asyncio
import importlib
import json
import re
import sys

import pulumi
from pulumi.runtime import Mocks, set_mocks
from pulumi.runtime.stack import wait_for_rpcs
from pulumi.runtime.sync_await import _sync_await


def sdk_class(token: str):
    """`aws:ec2/vpc:Vpc` -> pulumi_aws.ec2.Vpc; `kubernetes:storage.k8s.io/v1:StorageClass` -> ...storage.v1."""
    package, module, name = token.split(":")
    if package == "pulumi":
        return importlib.import_module(f"pulumi_{name}").Provider
    if package == "aws":
        return getattr(importlib.import_module(f"pulumi_aws.{module.split('/')[0]}"), name)
    if package == "kubernetes":
        group, version = module.rsplit("/", 1) if "/" in module else ("core", module)
        group = {"helm.sh": "helm"}.get(group, group.split(".")[0])
        return getattr(importlib.import_module(f"pulumi_kubernetes.{group}.{version}"), name)
    raise KeyError(token)


def _is_custom(token: str) -> bool:
    """A custom resource (a CRD's kind), which has no typed SDK class."""
    try:
        sdk_class(token)
    except (ImportError, AttributeError):
        return True
    return False


def snake(key: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", key).lower()


class EchoMocks(Mocks):
    def new_resource(self, args):
        return f"{args.name}-id", dict(args.inputs)

    def call(self, args):
        return {}, None


def main(inventory_path: str) -> int:
    inventory = json.loads(open(inventory_path).read())
    set_mocks(EchoMocks(), project=inventory["project"], stack=inventory["stack"], preview=False)
    for resource in inventory["resources"]:
        typ, name = resource["type"], resource["name"]
        if typ.startswith("spark-on-eks:"):
            pulumi.ComponentResource(typ, name)
        elif typ.startswith("kubernetes:") and _is_custom(typ):
            from pulumi_kubernetes.apiextensions import CustomResource

            inputs = resource["inputs"]
            CustomResource(name, api_version=inputs["apiVersion"], kind=inputs["kind"], metadata=inputs.get("metadata"), spec=inputs.get("spec"))
        else:
            sdk_class(typ)(name, **{snake(k): v for k, v in resource["inputs"].items()})
    _sync_await(wait_for_rpcs())
    asyncio.get_event_loop().close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
