"""The offline plan: complete inventory, masked secrets, stable bytes, a helpful CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from sparkeks.plan.cloud import SimulatedAws
from sparkeks.plan.monitor import SECRET, plain, urn_ref
from sparkeks.plan.runner import SECRET_PLACEHOLDER, Plan, PlanError, run_plan, secret_fingerprint
from sparkeks.plan.writer import write_plan
from sparkeks.regions import REGIONS
from tests.conftest import PROJECT_ROOT, make_project, stack_config


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "sparkeks", *args],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        env={**os.environ, **(env or {})},
    )


def _tree(path: Path) -> dict[str, bytes]:
    return {str(p.relative_to(path)): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}


def test_plan_is_byte_identical_across_processes_and_hash_seeds(tmp_path):
    first = _cli("plan", "prod", "-q", "--out", str(tmp_path / "a"), env={"PYTHONHASHSEED": "1"})
    second = _cli("plan", "prod", "-q", "--out", str(tmp_path / "b"), env={"PYTHONHASHSEED": "2"})
    assert first.returncode == 0 and second.returncode == 0, first.stderr + second.stderr
    a, b = _tree(tmp_path / "a"), _tree(tmp_path / "b")
    assert "inventory.json" in a and "helm/karpenter.yaml" in a and "manifests/nodepool.spark-executor.yaml" in a
    assert a == b


def test_inventory_lists_every_resource_with_resolvable_parents_and_dependencies(prod, tmp_path):
    write_plan(prod.plan, tmp_path)
    inventory = json.loads((tmp_path / "inventory.json").read_text())
    assert set(inventory) == {"project", "stack", "resources", "outputs", "secrets", "cost"}
    assert (inventory["project"], inventory["stack"]) == ("spark-on-eks", "prod")
    # Of a secret, only a digest of its ciphertext: the diff can say "changed (secret)", nobody can guess it.
    secrets = ("grafanaAdminPassword", "historyServerClientSecret", "historyServerCookieSecret")
    assert inventory["secrets"] == {
        f"spark-on-eks:{key}": secret_fingerprint(stack_config("prod")[f"spark-on-eks:{key}"]) for key in secrets
    }
    refs = {f"{r['type']}::{r['name']}" for r in inventory["resources"]}
    assert len(refs) == len(inventory["resources"])
    for resource in inventory["resources"]:
        assert set(resource) - {"secretConfig"} == {"type", "name", "parent", "inputs", "options"}
        assert resource["parent"] is None or resource["parent"] in refs
        assert {"protect", "retainOnDelete", "dependsOn"} <= set(resource["options"])
        assert set(resource["options"]["dependsOn"]) <= refs
    components = {r["type"] for r in inventory["resources"] if r["type"].startswith("spark-on-eks:")}
    assert components == {
        "spark-on-eks:network:Network",
        "spark-on-eks:cluster:Cluster",
        "spark-on-eks:karpenter:Karpenter",
        "spark-on-eks:storage:SparkStorage",
        "spark-on-eks:spark:SparkPlatform",
        "spark-on-eks:spark:SparkTeam",
        "spark-on-eks:history:HistoryServer",
        "spark-on-eks:storage:ProtectedBucket",
        "spark-on-eks:observability:Observability",
        "spark-on-eks:images:ImageRegistry",
    }


def test_parents_come_before_children(prod):
    seen = set()
    for resource in prod.plan.resources:
        assert resource["parent"] is None or resource["parent"] in seen
        seen.add(f"{resource['type']}::{resource['name']}")


def test_prod_plan_shows_what_the_issue_promises(prod):
    outputs = prod.plan.outputs
    assert outputs["zones"] == ["us-east-1a", "us-east-1b", "us-east-1c"]
    assert len(prod.of_type("aws:ec2/natGateway:NatGateway")) == 3
    assert outputs["clusterName"] == "spark-prod"
    assert outputs["clusterEndpoint"].startswith("https://") and outputs["clusterEndpoint"].endswith(".us-east-1.eks.amazonaws.com")
    assert outputs["vpcId"].startswith("vpc-")
    assert len(outputs["privateSubnetIds"]) == 3 and len(outputs["publicSubnetIds"]) == 3


def test_secrets_never_reach_the_plan_output_in_clear(prod, tmp_path):
    write_plan(prod.plan, tmp_path / "out")
    everything = b"".join(_tree(tmp_path / "out").values()).decode()
    # The kubeconfig is secret: neither its content nor even its shape may show.
    assert "get-token" not in everything and "certificate-authority-data" not in everything
    assert json.loads((tmp_path / "out" / "inventory.json").read_text())["outputs"]["kubeconfig"] == SECRET


def test_a_secret_given_to_a_setting_that_cannot_keep_it_is_refused(tmp_path):
    config = stack_config("dev")
    config["spark-on-eks:tags"] = {**config["spark-on-eks:tags"], "owner": {"secure": "v1:ciphertext"}}
    project = make_project(tmp_path / "p", {"dev": config})
    with pytest.raises(PlanError) as err:
        run_plan("dev", project)
    [line] = err.value.lines
    assert line.startswith("stacks/Pulumi.dev.yaml: spark-on-eks:tags: [secret]: is not a secret setting")
    assert SECRET_PLACEHOLDER not in line and "ciphertext" not in line
    assert err.value.registered == 0


def test_secret_envelopes_are_masked_at_any_depth():
    from pulumi.runtime import rpc

    wire = {"a": [{"b": {rpc._special_sig_key: rpc._special_secret_sig, "value": "hunter2"}}], "n": 3.0}
    assert plain(wire) == {"a": [{"b": SECRET}], "n": 3}
    secret_output = {rpc._special_sig_key: rpc._special_output_value_sig, "value": "x", "secret": True}
    assert plain(secret_output) == SECRET


def test_urn_refs_drop_the_parent_type_chain():
    urn = "urn:pulumi:prod::spark-on-eks::spark-on-eks:network:Network$aws:ec2/vpc:Vpc::network-vpc"
    assert urn_ref(urn) == "aws:ec2/vpc:Vpc::network-vpc"


def test_simulated_account_has_the_regions_real_zones():
    from pulumi.runtime import MockCallArgs

    zones = SimulatedAws(REGIONS["us-east-1"]).call(
        MockCallArgs("aws:index/getAvailabilityZones:getAvailabilityZones", {}, "")
    )
    assert len(zones["names"]) == 6 and zones["zoneIds"][0] == "use1-az1"
    assert len(SimulatedAws(REGIONS["us-west-2"]).call(MockCallArgs("aws:index/getAvailabilityZones:getAvailabilityZones", {}, ""))["names"]) == 4


def test_unsimulated_invokes_fail_loudly():
    from pulumi.runtime import MockCallArgs

    with pytest.raises(NotImplementedError, match="aws:s3/getBucket:getBucket"):
        SimulatedAws(REGIONS["us-east-1"]).call(MockCallArgs("aws:s3/getBucket:getBucket", {}, ""))


def test_manifests_are_one_file_per_object(prod, tmp_path):
    write_plan(prod.plan, tmp_path)
    files = sorted(p.name for p in (tmp_path / "manifests").iterdir())
    manifests = [r for r in prod.plan.resources if r["type"].startswith("kubernetes:") and "helm.sh" not in r["type"]]
    assert len(files) == len(manifests)
    assert {"storageclass.gp3.yaml", "nodepool.spark-executor.yaml", "namespace.analytics.yaml", "resourcequota.analytics.spark-team.yaml"} <= set(files)
    manifest = yaml.safe_load((tmp_path / "manifests" / "storageclass.gp3.yaml").read_text())
    assert list(manifest)[:3] == ["apiVersion", "kind", "metadata"]


def test_helm_releases_are_written_with_chart_version_and_merged_values(tmp_path):
    release = {
        "type": "kubernetes:helm.sh/v3:Release",
        "name": "karpenter",
        "parent": None,
        "inputs": {
            "name": "karpenter",
            "chart": "karpenter",
            "version": "1.14.1",
            "namespace": "kube-system",
            "repositoryOpts": {"repo": "oci://public.ecr.aws/karpenter"},
            "values": {"settings": {"clusterName": "spark-dev"}, "replicas": 2},
        },
        "options": {"protect": False, "retainOnDelete": False, "dependsOn": []},
    }
    write_plan(Plan("spark-on-eks", "t", [release], {}, {}), tmp_path)
    written = yaml.safe_load((tmp_path / "helm" / "karpenter.yaml").read_text())
    assert written == {
        "release": "karpenter",
        "chart": "karpenter",
        "repository": "oci://public.ecr.aws/karpenter",
        "version": "1.14.1",
        "namespace": "kube-system",
        "values": {"replicas": 2, "settings": {"clusterName": "spark-dev"}},
    }


def test_rewriting_a_plan_removes_objects_that_are_gone(prod, tmp_path):
    (tmp_path / "manifests").mkdir()
    (tmp_path / "manifests" / "namespace.old.yaml").write_text("stale")
    (tmp_path / "notes.txt").write_text("mine")
    write_plan(prod.plan, tmp_path)
    assert not (tmp_path / "manifests" / "namespace.old.yaml").exists()
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_summary_counts_and_tree(prod, tmp_path):
    write_plan(prod.plan, tmp_path)
    summary = (tmp_path / "summary.md").read_text()
    assert f"{len(prod.plan.resources)} resources" in summary
    assert "| `aws:ec2/natGateway:NatGateway` | 3 |" in summary
    assert "  - `cluster-secrets` aws:kms/key:Key (protect, retainOnDelete)" in summary


def test_cli_help_explains_the_offline_plan():
    result = _cli("plan", "--help")
    assert result.returncode == 0
    for words in ("no AWS", "inventory.json", "manifests/", "helm/", "summary.md", "exits 2"):
        assert words in " ".join(result.stdout.split())


def test_unknown_stack_is_one_line_and_exit_2():
    result = _cli("plan", "nosuchstack")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == ["stacks/Pulumi.nosuchstack.yaml: no such stack file; stacks: dev, prod, staging"]


def test_broken_yaml_is_reported_with_its_line(tmp_path):
    project = make_project(tmp_path / "p", {})
    (project / "stacks" / "Pulumi.bad.yaml").write_text("config:\n  aws:region: [us-east-1\n")
    with pytest.raises(PlanError) as err:
        run_plan("bad", project)
    [line] = err.value.lines
    assert line.startswith("stacks/Pulumi.bad.yaml:3: not valid YAML")


def test_config_errors_are_found_in_looping_exception_chains():
    from sparkeks.config.loader import ConfigError
    from sparkeks.plan.runner import _input_error_in_chain

    first, second = RuntimeError("a"), RuntimeError("b")
    first.__cause__, second.__cause__ = second, first  # a loop, as asyncio re-raising can leave behind
    assert _input_error_in_chain(first) is None
    wrapped = RuntimeError("run error")
    wrapped.__cause__ = ConfigError(["x"])
    assert _input_error_in_chain(wrapped).problems == ["x"]


def test_simulated_ids_are_never_shared_between_stacks(dev, prod):
    from sparkeks.plan.cloud import _ID_PREFIXES

    def simulated(view):
        kinds = (*_ID_PREFIXES, "aws:iam/role:Role", "aws:kms/key:Key", "aws:eks/podIdentityAssociation:PodIdentityAssociation")
        return {view.plan.ids[ref] for ref in view.plan.ids if ref.split("::")[0] in kinds}

    dev_ids, prod_ids = simulated(dev), simulated(prod)
    assert len(dev_ids) > 20 and len(prod_ids) > 20
    assert dev_ids.isdisjoint(prod_ids)
    vpc = prod.one("aws:ec2/vpc:Vpc")
    assert prod.id_of(vpc) != dev.id_of(dev.one("aws:ec2/vpc:Vpc"))
