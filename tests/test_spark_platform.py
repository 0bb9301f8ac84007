"""Spark platform: operator release, teams (namespace, identity, IAM, quota, limits), isolation, bucket."""

from __future__ import annotations

import json

import celpy
import pytest

from components.spark import teams as team_objects
from sparkeks.plan.runner import load_stack
from sparkeks.plan.writer import HELM_RELEASE

ACCOUNT = "111122223333"
BUCKET = f"spark-prod-spark-{ACCOUNT}"


def _k8s(view, kind, name, namespace=None):
    found = [
        r["inputs"]
        for r in view.plan.resources
        if r["type"].endswith(f":{kind}")
        and r["inputs"].get("metadata", {}).get("name") == name
        and r["inputs"]["metadata"].get("namespace") == namespace
    ]
    assert len(found) == 1, (kind, name, namespace, len(found))
    return found[0]


def _release(view, name):
    return next(r for r in view.of_type(HELM_RELEASE) if r["inputs"]["name"] == name)


def test_operator_watches_exactly_the_team_namespaces(prod, dev):
    assert _release(prod, "spark-operator")["inputs"]["values"]["spark"]["jobNamespaces"] == ["analytics", "ml-platform"]
    assert _release(dev, "spark-operator")["inputs"]["values"]["spark"]["jobNamespaces"] == ["analytics"]


def test_operator_release_is_pinned_on_the_platform_nodes_with_metrics(prod):
    release = _release(prod, "spark-operator")
    inputs = release["inputs"]
    assert (inputs["chart"], inputs["version"], inputs["repositoryOpts"]["repo"]) == (
        "spark-operator",
        "2.5.2",
        "https://kubeflow.github.io/spark-operator",
    )
    values = inputs["values"]
    for part in ("controller", "webhook"):
        assert values[part]["nodeSelector"] == {"spark-on-eks.io/pool": "platform"}
        assert values[part]["tolerations"] == [{"key": "spark-on-eks.io/pool", "operator": "Equal", "value": "platform", "effect": "NoSchedule"}]
        assert values[part]["podDisruptionBudget"] == {"enable": True, "minAvailable": 1}
        [spread] = values[part]["topologySpreadConstraints"]
        assert spread["topologyKey"] == "topology.kubernetes.io/zone"
        assert spread["labelSelector"]["matchLabels"]["app.kubernetes.io/component"] == part
    assert values["prometheus"]["metrics"]["enable"] is True
    assert values["prometheus"]["podMonitor"]["create"] is True  # observability is on in prod
    assert values["hook"]["upgradeCrd"] is True
    assert values["spark"]["serviceAccount"]["create"] is False and values["spark"]["rbac"]["create"] is False
    # Waiting on a component means waiting on all its resources: the team namespaces exist first.
    assert {"kubernetes:core/v1:Namespace::team-analytics-namespace", "kubernetes:core/v1:Namespace::team-ml-platform-namespace"} <= set(
        release["options"]["dependsOn"]
    )


def test_every_team_gets_namespace_account_role_and_binding(prod):
    for team, pools in (("analytics", "spark-driver,spark-executor,spark-executor-nvme"), ("ml-platform", "spark-driver,spark-executor")):
        namespace = _k8s(prod, "Namespace", team)
        assert namespace["metadata"]["labels"]["spark-on-eks.io/team"] == team
        assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "baseline"
        assert namespace["metadata"]["annotations"]["spark-on-eks.io/allowed-pools"] == pools
        assert _k8s(prod, "ServiceAccount", "spark", team)["metadata"]["name"] == "spark"
        role = _k8s(prod, "Role", "spark-driver", team)
        assert role["rules"] == [
            {
                "apiGroups": [""],
                "resources": ["configmaps", "persistentvolumeclaims", "pods", "services"],
                "verbs": ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"],
            }
        ]
        binding = _k8s(prod, "RoleBinding", "spark-driver", team)
        assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "spark", "namespace": team}]
        assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "spark-driver"}


def test_team_identity_is_pod_identity_for_its_spark_account(prod):
    for team in ("analytics", "ml-platform"):
        association = prod.one("aws:eks/podIdentityAssociation:PodIdentityAssociation", f"team-{team}-spark")["inputs"]
        role = prod.one("aws:iam/role:Role", f"team-{team}-spark")
        assert (association["namespace"], association["serviceAccount"]) == (team, "spark")
        assert association["roleArn"] == f"arn:aws:iam::{ACCOUNT}:role/{prod.id_of(role)}"
        assert json.loads(role["inputs"]["assumeRolePolicy"])["Statement"][0]["Principal"] == {"Service": "pods.eks.amazonaws.com"}


def _team_policy(view, team):
    return json.loads(view.one("aws:iam/rolePolicy:RolePolicy", f"team-{team}-spark-data")["inputs"]["policy"])


def test_team_iam_is_exactly_its_own_data_and_prefixes(prod):
    assert _team_policy(prod, "ml-platform")["Statement"] == [
        {
            "Sid": "LocateBuckets",
            "Effect": "Allow",
            "Action": ["s3:GetBucketLocation"],
            "Resource": ["arn:aws:s3:::example-datalake-prod", "arn:aws:s3:::example-ml-prod", f"arn:aws:s3:::{BUCKET}"],
        },
        {
            "Sid": "ListOwnLocations0",
            "Effect": "Allow",
            "Action": ["s3:ListBucket"],
            "Resource": "arn:aws:s3:::example-datalake-prod",
            "Condition": {"StringLike": {"s3:prefix": ["curated", "curated/*"]}},
        },
        {
            "Sid": "ListOwnLocations1",
            "Effect": "Allow",
            "Action": ["s3:ListBucket"],
            "Resource": "arn:aws:s3:::example-ml-prod",
            "Condition": {"StringLike": {"s3:prefix": ["features", "features/*"]}},
        },
        {
            "Sid": "ListOwnLocations2",
            "Effect": "Allow",
            "Action": ["s3:ListBucket"],
            "Resource": f"arn:aws:s3:::{BUCKET}",
            "Condition": {
                "StringLike": {
                    "s3:prefix": ["event-logs/ml-platform", "event-logs/ml-platform/*", "shuffle-fallback/ml-platform", "shuffle-fallback/ml-platform/*"]
                }
            },
        },
        {
            "Sid": "ReadData",
            "Effect": "Allow",
            "Action": ["s3:GetObject"],
            "Resource": ["arn:aws:s3:::example-datalake-prod/curated", "arn:aws:s3:::example-datalake-prod/curated/*"],
        },
        {
            "Sid": "WriteOwnLocations",
            "Effect": "Allow",
            "Action": ["s3:AbortMultipartUpload", "s3:DeleteObject", "s3:GetObject", "s3:PutObject"],
            "Resource": [
                "arn:aws:s3:::example-ml-prod/features",
                "arn:aws:s3:::example-ml-prod/features/*",
                f"arn:aws:s3:::{BUCKET}/event-logs/ml-platform",
                f"arn:aws:s3:::{BUCKET}/event-logs/ml-platform/*",
                f"arn:aws:s3:::{BUCKET}/shuffle-fallback/ml-platform",
                f"arn:aws:s3:::{BUCKET}/shuffle-fallback/ml-platform/*",
            ],
        },
    ]


def _resources(policy):
    return {r for s in policy["Statement"] for r in ([s["Resource"]] if isinstance(s["Resource"], str) else s["Resource"])}


def test_no_team_can_reach_another_teams_prefixes_even_with_a_shared_name_start(plan_variant):
    teams = [
        {"name": "ana", "max": {"cpu": 10, "memory": "40Gi"}, "limits": {"maxCpu": 8, "maxMemory": "32Gi"}},
        {"name": "analytics", "max": {"cpu": 10, "memory": "40Gi"}, "limits": {"maxCpu": 8, "maxMemory": "32Gi"}},
    ]
    view = plan_variant("dev", teams=teams)
    ana = _team_policy(view, "ana")
    for resource in _resources(ana):
        assert "analytics" not in resource
    for statement in ana["Statement"]:
        for prefix in statement.get("Condition", {}).get("StringLike", {}).get("s3:prefix", []):
            assert not prefix.startswith("event-logs/analytics") and not prefix.startswith("shuffle-fallback/analytics")
    assert not any(a == "*" or a.endswith(":*") for s in ana["Statement"] for a in s["Action"])


def test_quota_is_the_queue_max_and_limit_range_follows_config(prod):
    # analytics states no max: its ceiling is every pool's limits (512 + 4000 + 1000 cpu), never its guaranteed 1600.
    quota = _k8s(prod, "ResourceQuota", "spark-team", "analytics")["spec"]["hard"]
    assert quota == {"requests.cpu": "5512", "requests.memory": "22048Gi", "limits.memory": "22048Gi", "pods": "2000"}
    ml = _k8s(prod, "ResourceQuota", "spark-team", "ml-platform")["spec"]["hard"]
    assert ml == {"requests.cpu": "2400", "requests.memory": "9600Gi", "limits.memory": "9600Gi", "pods": "1000"}
    limits = _k8s(prod, "LimitRange", "spark-team", "analytics")["spec"]["limits"]
    assert limits == [
        {
            "type": "Container",
            "defaultRequest": {"cpu": "1", "memory": "2Gi"},
            "default": {"memory": "2Gi"},
            "max": {"cpu": "32", "memory": "256Gi"},
        }
    ]
    assert _k8s(prod, "ResourceQuota", "spark-team", "ml-platform")["spec"]["hard"]["pods"] == "1000"


def test_drivers_outrank_executors(prod):
    driver = _k8s(prod, "PriorityClass", "spark-driver")
    executor = _k8s(prod, "PriorityClass", "spark-executor")
    assert driver["value"] > executor["value"]
    # With YuniKorn (prod) executors may take their team's guarantee back; tests/test_team_queues.py covers both modes.
    assert (driver["preemptionPolicy"], executor["preemptionPolicy"]) == ("PreemptLowerPriority", "PreemptLowerPriority")


def test_network_policies_and_the_cni_engine_come_together(prod, dev):
    names = {r["inputs"]["metadata"]["name"] for r in prod.of_type("kubernetes:networking.k8s.io/v1:NetworkPolicy") if r["inputs"]["metadata"]["namespace"] == "analytics"}
    assert names == {"default-deny-ingress", "allow-within-team", "allow-monitoring"}
    cni = prod.one("aws:eks/addon:Addon", "cluster-vpc-cni")["inputs"]
    assert json.loads(cni["configurationValues"]) == {"enableNetworkPolicy": "true"}
    assert dev.of_type("kubernetes:networking.k8s.io/v1:NetworkPolicy") == []
    assert "configurationValues" not in dev.one("aws:eks/addon:Addon", "cluster-vpc-cni")["inputs"]


def test_team_config_map_says_where_spark_writes(prod):
    data = _k8s(prod, "ConfigMap", "spark-platform", "analytics")["data"]
    assert data["eventLogDir"] == f"s3a://{BUCKET}/event-logs/analytics/"
    assert data["fallbackStoragePath"] == f"s3a://{BUCKET}/shuffle-fallback/analytics/"


def test_event_log_directories_exist_for_the_server_and_every_team(prod):
    keys = sorted(o["inputs"]["key"] for o in prod.of_type("aws:s3/bucketObjectv2:BucketObjectv2"))
    assert keys == ["event-logs/", "event-logs/analytics/", "event-logs/ml-platform/"]
    assert {o["inputs"]["bucket"] for o in prod.of_type("aws:s3/bucketObjectv2:BucketObjectv2")} == {BUCKET}


def test_platform_bucket_is_private_encrypted_versioned_tls_only_and_expires(prod):
    bucket = prod.one("aws:s3/bucket:Bucket", "spark-storage-bucket")
    assert bucket["inputs"]["bucket"] == BUCKET and bucket["inputs"]["forceDestroy"] is False
    assert bucket["options"]["protect"] is True and bucket["options"]["retainOnDelete"] is True
    block = prod.one("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "spark-storage-public-access")["inputs"]
    assert all(block[k] is True for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"))
    assert prod.one("aws:s3/bucketOwnershipControls:BucketOwnershipControls", "spark-storage-ownership")["inputs"]["rule"] == {"objectOwnership": "BucketOwnerEnforced"}
    [sse] = prod.one("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", "spark-storage-encryption")["inputs"]["rules"]
    assert sse["applyServerSideEncryptionByDefault"] == {"sseAlgorithm": "AES256"}
    assert prod.one("aws:s3/bucketVersioning:BucketVersioning", "spark-storage-versioning")["inputs"]["versioningConfiguration"] == {"status": "Enabled"}
    rules = {r["id"]: r for r in prod.one("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "spark-storage-lifecycle")["inputs"]["rules"]}
    assert rules["expire-event-logs"]["filter"] == {"prefix": "event-logs/"}
    assert rules["expire-event-logs"]["expiration"] == {"days": 180}
    assert rules["expire-shuffle-fallback"]["filter"] == {"prefix": "shuffle-fallback/"}
    assert rules["expire-shuffle-fallback"]["expiration"] == {"days": 1}
    assert rules["abort-incomplete-uploads"]["abortIncompleteMultipartUpload"] == {"daysAfterInitiation": 1}
    [deny] = json.loads(prod.one("aws:s3/bucketPolicy:BucketPolicy", "spark-storage-tls-only")["inputs"]["policy"])["Statement"]
    assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert deny["Resource"] == [f"arn:aws:s3:::{BUCKET}", f"arn:aws:s3:::{BUCKET}/*"]


def test_dev_bucket_can_be_destroyed_only_because_dev_opted_in(dev):
    bucket = dev.one("aws:s3/bucket:Bucket", "spark-storage-bucket")
    assert bucket["inputs"]["forceDestroy"] is True
    assert bucket["options"]["protect"] is False
    assert bucket["inputs"]["bucket"] == "spark-dev-spark-444455556666"


# --- the pool admission policy, evaluated with a CEL interpreter --------------------------------


def _split(text, separator):
    # The Kubernetes CEL strings library's split(), which core CEL lacks.
    return celpy.celtypes.ListType([celpy.celtypes.StringType(p) for p in str(text).split(str(separator))])


def _admit(pod_spec, allowed):
    policy = team_objects.pool_access_policy()[0]["spec"]
    env = celpy.Environment()
    activation = {
        "object": celpy.json_to_cel({"spec": pod_spec}),
        "namespaceObject": celpy.json_to_cel({"metadata": {"annotations": {team_objects.ALLOWED_POOLS_ANNOTATION: allowed}}}),
    }
    [variable] = policy["variables"]
    activation["variables"] = celpy.json_to_cel({})
    allowed_pools = env.program(env.compile(variable["expression"]), functions={"split": _split}).evaluate(activation)
    activation["variables"] = celpy.celtypes.MapType({celpy.celtypes.StringType("allowedPools"): allowed_pools})
    return [bool(env.program(env.compile(v["expression"]), functions={"split": _split}).evaluate(activation)) for v in policy["validations"]]


def _pool(name):
    return {"nodeSelector": {"spark-on-eks.io/pool": name}, "tolerations": [{"key": "spark-on-eks.io/pool", "operator": "Equal", "value": name, "effect": "NoSchedule"}]}


@pytest.mark.parametrize(
    ("pod", "allowed", "admitted"),
    [
        (_pool("spark-executor"), "spark-driver,spark-executor", [True, True]),
        (_pool("spark-executor-nvme"), "spark-driver,spark-executor", [False, False]),
        # The platform services' pool is never a team's.
        (_pool("platform"), "spark-driver,spark-executor,spark-executor-nvme", [False, False]),
        ({"containers": []}, "spark-driver", [True, True]),
        ({"tolerations": [{"operator": "Exists"}]}, "spark-driver,spark-executor", [True, False]),
        ({"tolerations": [{"key": "CriticalAddonsOnly", "operator": "Exists"}]}, "spark-driver", [True, False]),
        ({"tolerations": [{"key": "spark-on-eks.io/pool", "operator": "Exists"}]}, "spark-driver", [True, False]),
        ({"tolerations": [{"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute"}]}, "spark-driver", [True, True]),
    ],
)
def test_pool_admission_policy(pod, allowed, admitted):
    assert _admit(pod, allowed) == admitted


def test_admission_policy_binds_as_deny(prod):
    binding = _k8s(prod, "ValidatingAdmissionPolicyBinding", "spark-on-eks-pool-access")
    assert binding["spec"] == {"policyName": "spark-on-eks-pool-access", "validationActions": ["Deny"]}


def test_shipped_stacks_declare_teams():
    for stack in ("dev", "prod"):
        config = load_stack(stack)
        assert config.teams
