"""EKS add-on configuration checked against the schema EKS publishes per add-on build.

The real schemas come from `aws eks describe-addon-configuration` in the preview workflow (no AWS here);
these tests write stand-in schemas of the same form (a JSON schema per `<addon>@<build>.json`) to prove the
check reads the plan's real configuration values and reports each violation on one line.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import yaml

from sparkeks import versions
from sparkeks.addon_schemas import configurations, problems
from sparkeks.plan.writer import write_plan
from tests.conftest import PROJECT_ROOT


@pytest.fixture(scope="module")
def prod_plan_dir(tmp_path_factory, prod):
    out = tmp_path_factory.mktemp("addons") / "plan"
    write_plan(prod.plan, out)
    return out


def _pins():
    from tests.conftest import stack_config

    return versions.eks_addon_versions(stack_config("prod")["spark-on-eks:cluster"]["kubernetesVersion"])


def _schema(properties: dict, **extra) -> dict:
    return {"$schema": "http://json-schema.org/draft-07/schema#", "type": "object", "properties": properties, "additionalProperties": False, **extra}


_RESOURCES = {
    "type": "object",
    "properties": {
        "requests": {"type": "object", "properties": {"cpu": {"type": "string"}, "memory": {"type": "string"}}, "additionalProperties": False},
        "limits": {"type": "object", "properties": {"cpu": {"type": "string"}, "memory": {"type": "string"}}, "additionalProperties": False},
    },
    "additionalProperties": False,
}


def _write_schemas(folder, coredns: dict, ebs: dict | None = None, vpc_cni: dict | None = None):
    folder.mkdir(exist_ok=True)
    pins = _pins()
    found = {"coredns": coredns, "aws-ebs-csi-driver": ebs or _schema({"controller": {"type": "object", "properties": {"resources": _RESOURCES}}}),
             "vpc-cni": vpc_cni or _schema({"enableNetworkPolicy": {"type": "string", "enum": ["true", "false"]}})}
    for name, schema in found.items():
        (folder / f"{name}@{pins[name]}.json").write_text(json.dumps(schema))
    return folder


def test_the_plan_names_every_addon_build_and_what_the_platform_configures(prod_plan_dir):
    pins = _pins()
    found = {c.addon: (c.version, c.values) for c in configurations(prod_plan_dir)}
    assert {name: version for name, (version, _) in found.items()} == dict(pins)
    assert found["coredns"][1] == {"replicaCount": 2, "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "256Mi"}}}
    assert found["aws-ebs-csi-driver"][1] == {"controller": {"resources": {"requests": {"cpu": "10m", "memory": "40Mi"}, "limits": {"memory": "256Mi"}}}}
    assert found["vpc-cni"][1] == {"enableNetworkPolicy": "true"}
    assert found["kube-proxy"][1] is None and found["eks-pod-identity-agent"][1] is None


def test_configuration_the_schemas_allow_passes(prod_plan_dir, tmp_path):
    schemas = _write_schemas(tmp_path / "s", _schema({"replicaCount": {"type": "integer", "minimum": 1}, "resources": _RESOURCES}))
    assert problems(prod_plan_dir, schemas) == []


def test_each_value_a_build_would_refuse_is_one_line_with_its_path(prod_plan_dir, tmp_path):
    pins = _pins()
    # A build whose schema has no `resources` and wants at least 3 replicas; a CNI that takes booleans.
    schemas = _write_schemas(
        tmp_path / "s",
        _schema({"replicaCount": {"type": "integer", "minimum": 3}}),
        vpc_cni=_schema({"enableNetworkPolicy": {"type": "boolean"}}),
    )
    assert problems(prod_plan_dir, schemas) == [
        f"add-on coredns {pins['coredns']} (cluster-coredns): configurationValues: Additional properties are not allowed ('resources' was unexpected)",
        f"add-on coredns {pins['coredns']} (cluster-coredns): configurationValues.replicaCount: 2 is less than the minimum of 3",
        f"add-on vpc-cni {pins['vpc-cni']} (cluster-vpc-cni): configurationValues.enableNetworkPolicy: 'true' is not of type 'boolean'",
    ]


def test_a_missing_schema_says_how_to_fetch_it(prod_plan_dir, tmp_path):
    pins = _pins()
    lines = problems(prod_plan_dir, tmp_path)
    assert len(lines) == 3  # the three configured add-ons; the others run with EKS's defaults
    assert lines[1] == (
        f"add-on coredns {pins['coredns']} (cluster-coredns): no schema at {tmp_path}/coredns@{pins['coredns']}.json; fetch it with: "
        f"aws eks describe-addon-configuration --addon-name coredns --addon-version {pins['coredns']} "
        f"--query configurationSchema --output text > {tmp_path}/coredns@{pins['coredns']}.json"
    )


def test_the_command_exits_1_on_problems_and_2_without_a_plan(prod_plan_dir, tmp_path):
    def cli(*args):
        return subprocess.run([sys.executable, "-m", "sparkeks", "addons", *args], capture_output=True, text=True, cwd=PROJECT_ROOT)

    bad = _write_schemas(tmp_path / "bad", _schema({"replicaCount": {"type": "integer"}}))
    result = cli("check", "prod", "--plan", str(prod_plan_dir), "--schemas", str(bad))
    assert result.returncode == 1 and result.stderr.count("\n") == 1 and "'resources' was unexpected" in result.stderr
    good = _write_schemas(tmp_path / "good", _schema({"replicaCount": {"type": "integer"}, "resources": _RESOURCES}))
    assert cli("check", "prod", "--plan", str(prod_plan_dir), "--schemas", str(good)).returncode == 0
    missing = cli("check", "prod", "--plan", str(tmp_path / "nowhere"), "--schemas", str(good))
    assert missing.returncode == 2 and missing.stderr.strip().endswith("no plan here; run `python -m sparkeks plan <stack>` first")


def test_the_preview_workflow_fetches_the_schemas_and_checks_before_previewing():
    workflow = yaml.safe_load((PROJECT_ROOT / ".github" / "workflows" / "preview.yml").read_text())
    steps = workflow["jobs"]["preview"]["steps"]
    names = [s.get("name") or s.get("uses", "") for s in steps]
    check = next(i for i, s in enumerate(steps) if "sparkeks addons check" in s.get("run", ""))
    credentials = next(i for i, n in enumerate(names) if n.startswith("aws-actions/configure-aws-credentials"))
    preview = next(i for i, n in enumerate(names) if n.startswith("pulumi/actions"))
    assert credentials < check < preview
    script = steps[check]["run"]
    assert "aws eks describe-addon-configuration" in script and "--query configurationSchema" in script
    assert "sparkeks addons list" in script
