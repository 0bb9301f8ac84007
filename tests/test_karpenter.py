"""Karpenter: IAM equal to upstream's, interruption handling, controller release order, node classes and pools."""

from __future__ import annotations

import json
import re

import pytest
import yaml

from sparkeks import versions
from sparkeks.config.model import SparkPoolsConfig
from sparkeks.instances import FAMILIES
from sparkeks.placement import POOL_LABEL
from sparkeks.plan.writer import HELM_RELEASE
from sparkeks.spark.defaults import EXECUTOR_IDLE_TIMEOUT_SECONDS
from tests.conftest import PRIVATE_NETWORK, schemas_dir, stack_config

POLICY = "aws:iam/policy:Policy"
ROLE = "aws:iam/role:Role"
NODE_POOL = "kubernetes:karpenter.sh/v1:NodePool"
NODE_CLASS = "kubernetes:karpenter.k8s.aws/v1:EC2NodeClass"
ACCOUNT = "111122223333"


# --- upstream reference: the v1.14 getting-started CloudFormation template --------------------------------


class _CfnLoader(yaml.SafeLoader):
    """Reads CloudFormation short tags as plain values (!Sub keeps its template string)."""


for _tag in ("!Sub", "!GetAtt", "!Ref"):
    _CfnLoader.add_constructor(_tag, lambda loader, node: loader.construct_scalar(node))


@pytest.fixture(scope="module")
def upstream(prod):
    template = yaml.load((schemas_dir() / "karpenter" / "cloudformation.yaml").read_text(), Loader=_CfnLoader)
    node_role_arn = f"arn:aws:iam::{ACCOUNT}:role/{prod.id_of(prod.one(ROLE, 'karpenter-node'))}"
    queue_arn = f"arn:aws:sqs:us-east-1:{ACCOUNT}:spark-prod-karpenter"
    values = {
        "AWS::Partition": "aws",
        "AWS::Region": "us-east-1",
        "AWS::AccountId": ACCOUNT,
        "AWS::URLSuffix": "amazonaws.com",
        "ClusterName": "spark-prod",
        "KarpenterNodeRole.Arn": node_role_arn,
        "KarpenterInterruptionQueue.Arn": queue_arn,
    }

    def sub(text: str) -> str:
        return re.sub(r"\$\{([^}]+)\}", lambda m: values[m.group(1)], text)

    resources = template["Resources"]
    policies = {name: json.loads(sub(r["Properties"]["PolicyDocument"])) for name, r in resources.items() if r["Type"] == "AWS::IAM::ManagedPolicy"}
    rules = [r["Properties"]["EventPattern"] for r in resources.values() if r["Type"] == "AWS::Events::Rule"]
    return {"policies": policies, "rules": rules, "queue": resources["KarpenterInterruptionQueue"]["Properties"], "node_role": resources["KarpenterNodeRole"]}


def _normalize(statement: dict) -> dict:
    out = dict(statement)
    for key in ("Action", "Resource"):
        value = out.get(key)
        out[key] = sorted(value) if isinstance(value, list) else [value]
    return out


def _statements(document: dict) -> dict[str, dict]:
    return {s["Sid"]: _normalize(s) for s in document["Statement"]}


def _controller_policy(view, concern):
    return json.loads(view.one(POLICY, f"karpenter-controller-{concern}")["inputs"]["policy"])


@pytest.mark.parametrize(
    ("concern", "upstream_name"),
    [
        ("node-lifecycle", "NodeLifecyclePolicy"),
        ("iam-integration", "IAMIntegrationPolicy"),
        ("eks-integration", "EKSIntegrationPolicy"),
        ("interruption", "InterruptionPolicy"),
        ("resource-discovery", "ResourceDiscoveryPolicy"),
    ],
)
def test_controller_policies_equal_upstreams_statement_for_statement(prod, upstream, concern, upstream_name):
    ours = _statements(_controller_policy(prod, concern))
    theirs = _statements(upstream["policies"][upstream_name])
    assert ours == theirs


def test_controller_never_gets_wildcard_write_permissions(prod):
    read_only = re.compile(r"^(ec2:Describe\w+|pricing:GetProducts|iam:ListInstanceProfiles)$")
    for concern in ("node-lifecycle", "iam-integration", "eks-integration", "interruption", "resource-discovery"):
        for statement in _controller_policy(prod, concern)["Statement"]:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            assert not any(a == "*" or a.endswith(":*") for a in actions), statement["Sid"]
            if statement["Resource"] == "*":
                assert all(read_only.match(a) for a in actions), statement["Sid"]


def test_controller_identity_is_pod_identity_for_karpenter_karpenter(prod):
    role = prod.one(ROLE, "karpenter-controller")
    assert json.loads(role["inputs"]["assumeRolePolicy"])["Statement"][0]["Principal"] == {"Service": "pods.eks.amazonaws.com"}
    association = prod.one("aws:eks/podIdentityAssociation:PodIdentityAssociation", "karpenter-controller")["inputs"]
    assert (association["namespace"], association["serviceAccount"]) == ("karpenter", "karpenter")
    assert association["roleArn"] == f"arn:aws:iam::{ACCOUNT}:role/{prod.id_of(role)}"
    assert association["clusterName"] == "spark-prod"
    attached = {a["inputs"]["policyArn"] for a in prod.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment") if a["name"].startswith("karpenter-controller-")}
    karpenter_policies = [p for p in prod.of_type(POLICY) if p["parent"] == "spark-on-eks:karpenter:Karpenter::karpenter"]
    assert len(karpenter_policies) == 5
    assert attached == {f"arn:aws:iam::{ACCOUNT}:policy/{prod.id_of(p)}" for p in karpenter_policies}


def test_node_role_has_upstreams_four_policies_and_joins_through_an_access_entry(prod, upstream):
    role = prod.one(ROLE, "karpenter-node")
    assert json.loads(role["inputs"]["assumeRolePolicy"])["Statement"] == [
        {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ]
    attached = sorted(
        a["inputs"]["policyArn"] for a in prod.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment") if a["name"].startswith("karpenter-node-")
    )
    expected = sorted(p.replace("${AWS::Partition}", "aws") for p in upstream["node_role"]["Properties"]["ManagedPolicyArns"])
    assert attached == expected
    entry = prod.one("aws:eks/accessEntry:AccessEntry", "karpenter-node")["inputs"]
    assert entry == {"clusterName": "spark-prod", "principalArn": f"arn:aws:iam::{ACCOUNT}:role/{prod.id_of(role)}", "type": "EC2_LINUX"}


def test_interruption_queue_is_encrypted_short_lived_and_tls_only(prod, upstream):
    queue = prod.one("aws:sqs/queue:Queue")["inputs"]
    assert queue["messageRetentionSeconds"] == upstream["queue"]["MessageRetentionPeriod"] == 300
    assert queue["sqsManagedSseEnabled"] is True
    policy = json.loads(prod.one("aws:sqs/queuePolicy:QueuePolicy")["inputs"]["policy"])
    queue_arn = f"arn:aws:sqs:us-east-1:{ACCOUNT}:spark-prod-karpenter"
    allow, deny = policy["Statement"]
    assert allow["Principal"] == {"Service": ["events.amazonaws.com", "sqs.amazonaws.com"]}
    assert (allow["Action"], allow["Resource"]) == ("sqs:SendMessage", queue_arn)
    assert deny == {
        "Sid": "DenyHTTP",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "sqs:*",
        "Resource": queue_arn,
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


def test_five_event_rules_target_the_queue_with_upstreams_patterns(prod, upstream):
    rules = prod.of_type("aws:cloudwatch/eventRule:EventRule")
    patterns = sorted((json.loads(r["inputs"]["eventPattern"]) for r in rules), key=lambda p: json.dumps(p, sort_keys=True))
    assert patterns == sorted(upstream["rules"], key=lambda p: json.dumps(p, sort_keys=True))
    targets = prod.of_type("aws:cloudwatch/eventTarget:EventTarget")
    assert len(targets) == 5
    assert {t["inputs"]["arn"] for t in targets} == {f"arn:aws:sqs:us-east-1:{ACCOUNT}:spark-prod-karpenter"}
    assert sorted(t["inputs"]["rule"] for t in targets) == sorted(r["inputs"]["name"] for r in rules)


def _releases(view):
    return {r["inputs"]["name"]: r for r in view.of_type(HELM_RELEASE)}


def test_controller_release_is_pinned_and_names_queue_and_cluster(prod):
    release = _releases(prod)["karpenter"]
    inputs = release["inputs"]
    assert inputs["chart"] == "oci://public.ecr.aws/karpenter/karpenter"
    assert inputs["version"] == versions.KARPENTER_VERSION == "1.14.1"
    assert inputs["namespace"] == "karpenter"
    settings = inputs["values"]["settings"]
    assert settings["clusterName"] == "spark-prod"
    assert settings["interruptionQueue"] == "spark-prod-karpenter"
    assert settings["clusterEndpoint"] == prod.plan.outputs["clusterEndpoint"]
    assert settings["isolatedVPC"] is False
    assert inputs["values"]["serviceAccount"]["name"] == "karpenter"
    # Karpenter installs before the monitoring CRDs exist; kube-prometheus-stack scrapes it instead.
    assert "serviceMonitor" not in inputs["values"]


def test_controller_runs_twice_on_the_system_nodes(prod):
    values = _releases(prod)["karpenter"]["inputs"]["values"]
    assert values["replicas"] == 2
    assert values["nodeSelector"]["spark-on-eks.io/pool"] == "system"
    assert {"key": "CriticalAddonsOnly", "operator": "Exists"} in values["tolerations"]


def test_crds_come_first_on_install_and_on_upgrade(prod):
    releases = _releases(prod)
    crds, controller = releases["karpenter-crd"], releases["karpenter"]
    assert crds["inputs"]["chart"] == "oci://public.ecr.aws/karpenter/karpenter-crd"
    assert crds["inputs"]["version"] == controller["inputs"]["version"]
    # The controller chart must not also own the CRDs, or Helm would never upgrade them.
    assert controller["inputs"]["skipCrds"] is True
    crd_ref = f"{HELM_RELEASE}::{crds['name']}"
    controller_ref = f"{HELM_RELEASE}::{controller['name']}"
    assert crd_ref in controller["options"]["dependsOn"]
    for resource in prod.of_type(NODE_POOL) + prod.of_type(NODE_CLASS):
        assert {crd_ref, controller_ref} <= set(resource["options"]["dependsOn"]), resource["name"]


def test_controller_waits_for_its_identity_and_the_system_nodes(prod):
    depends = _releases(prod)["karpenter"]["options"]["dependsOn"]
    assert "aws:eks/podIdentityAssociation:PodIdentityAssociation::karpenter-controller" in depends
    assert "aws:eks/nodeGroup:NodeGroup::cluster-system" in depends


def test_isolated_vpc_without_nat(plan_variant):
    view = plan_variant(
        "dev",
        network=PRIVATE_NETWORK,
    )
    assert _releases(view)["karpenter"]["inputs"]["values"]["settings"]["isolatedVPC"] is True


def _spec(view, name):
    return view.one(NODE_CLASS if name in ("default", "nvme") else NODE_POOL, f"karpenter-{'class' if name in ('default', 'nvme') else 'pool'}-{name}")["inputs"]["spec"]


def test_node_classes_use_the_node_role_discovery_tags_and_imdsv2(prod):
    role_name = prod.id_of(prod.one(ROLE, "karpenter-node"))
    for name in ("default", "nvme"):
        spec = _spec(prod, name)
        assert spec["role"] == role_name and "instanceProfile" not in spec
        assert spec["amiSelectorTerms"] == [{"alias": versions.AL2023_AMI_ALIAS}]
        assert spec["subnetSelectorTerms"] == [{"tags": {"karpenter.sh/discovery": "spark-prod"}}]
        assert spec["securityGroupSelectorTerms"] == [{"tags": {"karpenter.sh/discovery": "spark-prod"}}]
        assert spec["metadataOptions"]["httpTokens"] == "required"
        assert spec["metadataOptions"]["httpPutResponseHopLimit"] == 1
        [root] = spec["blockDeviceMappings"]
        assert root["ebs"] == {"volumeSize": "100Gi", "volumeType": "gp3", "encrypted": True, "deleteOnTermination": True}
        assert spec["tags"]["cost-center"] == "data-prod"
    assert _spec(prod, "nvme")["instanceStorePolicy"] == "RAID0"
    assert "instanceStorePolicy" not in _spec(prod, "default")


def _requirements(spec):
    return {r["key"]: r["values"] for r in spec["template"]["spec"]["requirements"]}


def test_driver_pool_is_on_demand_never_consolidated_under_a_driver(prod):
    spec = _spec(prod, "spark-driver")
    assert _requirements(spec)["karpenter.sh/capacity-type"] == ["on-demand"]
    assert spec["disruption"]["consolidationPolicy"] == "WhenEmpty"
    assert spec["template"]["metadata"]["labels"] == {POOL_LABEL: "spark-driver"}
    assert spec["template"]["spec"]["taints"] == [{"key": POOL_LABEL, "value": "spark-driver", "effect": "NoSchedule"}]
    assert spec["limits"] == {"cpu": "512", "memory": "2048Gi"}  # prod stack file


def _instance_types(spec):
    req = _requirements(spec)
    return [t for f in req["karpenter.k8s.aws/instance-family"] for t in FAMILIES[f].instance_types([int(c) for c in req["karpenter.k8s.aws/instance-cpu"]])]


def test_executor_pool_is_spot_first_with_on_demand_fallback_by_weight(prod):
    spot, fallback = _spec(prod, "spark-executor"), _spec(prod, "spark-executor-on-demand")
    assert _requirements(spot)["karpenter.sh/capacity-type"] == ["spot"]
    assert _requirements(fallback)["karpenter.sh/capacity-type"] == ["on-demand"]
    assert spot["weight"] > fallback["weight"]
    # Both carry the same label and taint: an executor that selects the pool may land on either.
    assert spot["template"]["metadata"] == fallback["template"]["metadata"] == {"labels": {POOL_LABEL: "spark-executor"}}
    assert spot["template"]["spec"]["taints"] == fallback["template"]["spec"]["taints"]


def test_executor_pool_offers_at_least_15_instance_types_across_families_and_generations(prod):
    spec = _spec(prod, "spark-executor")
    types = _instance_types(spec)
    families = {t.split(".")[0] for t in types}
    assert len(types) >= 15
    assert {FAMILIES[f].category for f in families} == {"c", "m", "r"}
    assert {FAMILIES[f].generation for f in families} == {6, 7}


def test_executor_consolidation_waits_longer_than_spark_idle_timeout(prod):
    from sparkeks.config.model import duration_seconds

    for name in ("spark-executor", "spark-executor-on-demand", "spark-executor-nvme"):
        disruption = _spec(prod, name)["disruption"]
        assert disruption["consolidationPolicy"] == "WhenEmptyOrUnderutilized"
        assert duration_seconds(disruption["consolidateAfter"]) > EXECUTOR_IDLE_TIMEOUT_SECONDS


def test_prod_blocks_executor_disruption_during_the_nightly_batch_window(prod):
    budgets = _spec(prod, "spark-executor")["disruption"]["budgets"]
    assert {"nodes": "0", "schedule": "0 1 * * *", "duration": "6h"} in budgets
    assert {"nodes": "10%"} in budgets


def test_nvme_pool_uses_instance_store_families_on_the_raid0_class(prod):
    spec = _spec(prod, "spark-executor-nvme")
    assert spec["template"]["spec"]["nodeClassRef"] == {"group": "karpenter.k8s.aws", "kind": "EC2NodeClass", "name": "nvme"}
    assert all(FAMILIES[f].local_nvme for f in _requirements(spec)["karpenter.k8s.aws/instance-family"])
    assert spec["template"]["metadata"]["labels"] == {POOL_LABEL: "spark-executor-nvme"}


def test_every_pool_has_limits_from_config(prod):
    for name in ("spark-driver", "spark-executor", "spark-executor-on-demand", "spark-executor-nvme"):
        limits = _spec(prod, name)["limits"]
        assert set(limits) == {"cpu", "memory"} and int(limits["cpu"]) > 0


def test_pool_limits_follow_config(plan_variant):
    view = plan_variant("dev", karpenter={"pools": {"executor": {"limits": {"cpu": 64, "memory": "256Gi"}}}})
    assert _spec(view, "spark-executor")["limits"] == {"cpu": "64", "memory": "256Gi"}


def test_pools_run_in_the_spark_zones_only(prod, plan_variant):
    for name in ("spark-driver", "spark-executor", "spark-executor-nvme"):
        assert _requirements(_spec(prod, name))["topology.kubernetes.io/zone"] == ["us-east-1a", "us-east-1b", "us-east-1c"]
    view = plan_variant("prod", network={"sparkZones": ["us-east-1b"]})
    for name in ("spark-driver", "spark-executor", "spark-executor-on-demand", "spark-executor-nvme"):
        assert _requirements(_spec(view, name))["topology.kubernetes.io/zone"] == ["us-east-1b"]


def test_a_pool_can_narrow_its_zones_further(plan_variant):
    pools = {**stack_config("prod")["spark-on-eks:karpenter"]["pools"], "executorNvme": {"zones": ["us-east-1c"], "limits": {"cpu": 1000, "memory": "4000Gi"}}}
    view = plan_variant("prod", karpenter={"pools": pools})
    assert _requirements(_spec(view, "spark-executor-nvme"))["topology.kubernetes.io/zone"] == ["us-east-1c"]
    assert _requirements(_spec(view, "spark-executor"))["topology.kubernetes.io/zone"] == ["us-east-1a", "us-east-1b", "us-east-1c"]


def test_graviton_preference_adds_weighted_arm64_pools(plan_variant):
    executor = {
        "architectures": ["arm64", "amd64"],
        "instanceFamilies": ["m7g", "c7g", "r7g", "m8g", "m7i", "c7i", "r7i"],
        "instanceCpus": [8, 16],
        "limits": {"cpu": 500, "memory": "2000Gi"},
    }
    view = plan_variant("dev", karpenter={"pools": {"executor": executor}})
    pools = {p["inputs"]["metadata"]["name"]: p["inputs"]["spec"] for p in view.of_type(NODE_POOL)}
    order = sorted((n for n in pools if n.startswith("spark-executor") and "nvme" not in n), key=lambda n: -pools[n]["weight"])
    assert order == ["spark-executor", "spark-executor-amd64", "spark-executor-on-demand", "spark-executor-amd64-on-demand"]
    assert _requirements(pools["spark-executor"])["kubernetes.io/arch"] == ["arm64"]
    assert _requirements(pools["spark-executor"])["karpenter.k8s.aws/instance-family"] == ["m7g", "c7g", "r7g", "m8g"]
    assert _requirements(pools["spark-executor-amd64"])["karpenter.k8s.aws/instance-family"] == ["m7i", "c7i", "r7i"]


def test_default_pools_are_valid_and_stated_in_the_reference():
    pools = SparkPoolsConfig()
    assert pools.driver.capacity_types == ["on-demand"]
    assert pools.executor.capacity_types == ["spot", "on-demand"]
    assert len(pools.executor.instance_types()) >= 15


def test_dev_may_float_on_the_latest_ami_but_prod_may_not(plan_variant):
    view = plan_variant("dev", karpenter={"amiAlias": "al2023@latest"})
    assert _spec(view, "default")["amiSelectorTerms"] == [{"alias": "al2023@latest"}]
