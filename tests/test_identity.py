"""Pod Identity roles: assumable by this account's EKS Pod Identity only, for exactly one ServiceAccount."""

from __future__ import annotations

import json

ACCOUNT = "111122223333"
ROLE = "aws:iam/role:Role"


def _trust(namespace, service_account):
    return [
        {
            "Effect": "Allow",
            "Principal": {"Service": "pods.eks.amazonaws.com"},
            "Action": ["sts:AssumeRole", "sts:TagSession"],
            "Condition": {
                "StringEquals": {
                    "aws:SourceAccount": ACCOUNT,
                    "aws:RequestTag/kubernetes-namespace": namespace,
                    "aws:RequestTag/kubernetes-service-account": service_account,
                }
            },
        }
    ]


def test_every_pod_identity_role_names_the_account_and_its_one_service_account(prod):
    expected = {
        "cluster-ebs-csi": ("kube-system", "ebs-csi-controller-sa"),
        "karpenter-controller": ("karpenter", "karpenter"),
        "observability-loki": ("monitoring", "loki"),
        "history-analytics-reader": ("spark-history", "spark-history-server-analytics"),
        "history-ml-platform-reader": ("spark-history", "spark-history-server-ml-platform"),
        "team-analytics-spark": ("analytics", "spark"),
        "team-ml-platform-spark": ("ml-platform", "spark"),
    }
    pod_roles = {
        r["name"]: json.loads(r["inputs"]["assumeRolePolicy"])["Statement"]
        for r in prod.of_type(ROLE)
        if "pods.eks.amazonaws.com" in r["inputs"]["assumeRolePolicy"]
    }
    assert set(pod_roles) == set(expected)
    for name, (namespace, service_account) in expected.items():
        assert pod_roles[name] == _trust(namespace, service_account), name


def test_each_association_matches_its_roles_trust(prod):
    roles = {prod.id_of(r): r for r in prod.of_type(ROLE)}
    for association in prod.of_type("aws:eks/podIdentityAssociation:PodIdentityAssociation"):
        inputs = association["inputs"]
        role = roles[inputs["roleArn"].rsplit("/", 1)[1]]
        condition = json.loads(role["inputs"]["assumeRolePolicy"])["Statement"][0]["Condition"]["StringEquals"]
        assert condition["aws:RequestTag/kubernetes-namespace"] == inputs["namespace"], association["name"]
        assert condition["aws:RequestTag/kubernetes-service-account"] == inputs["serviceAccount"], association["name"]
