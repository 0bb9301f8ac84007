"""Every upstream version this project deploys, pinned in one place.

Nothing here says "latest": a version changes only by a commit that edits this file, so a plan diff
shows every upgrade. Add-on builds are pinned per Kubernetes minor because kube-proxy and CoreDNS
track the control plane's version.
"""

from __future__ import annotations

from types import MappingProxyType

# Kubernetes minors with a complete set of EKS add-on pins below. On 2026-11-24 EKS has 1.34 (standard
# support ends 2026-12-02), 1.35 (to 2027-03-27) and 1.36 in standard support; Karpenter 1.14 supports
# Kubernetes 1.30-1.36. kube-proxy and CoreDNS builds are the ones the EKS user guide lists per minor.
DEFAULT_KUBERNETES_VERSION = "1.35"

_SHARED_ADDONS = {
    "vpc-cni": "v1.22.4-eksbuild.3",
    "eks-pod-identity-agent": "v1.3.10-eksbuild.3",
    # Pod Identity support for this add-on starts at v1.26.0-eksbuild.1.
    "aws-ebs-csi-driver": "v1.63.1-eksbuild.1",
}

EKS_ADDON_VERSIONS = MappingProxyType(
    {
        "1.34": MappingProxyType(
            {**_SHARED_ADDONS, "kube-proxy": "v1.34.6-eksbuild.13", "coredns": "v1.13.2-eksbuild.11"}
        ),
        "1.35": MappingProxyType(
            {**_SHARED_ADDONS, "kube-proxy": "v1.35.3-eksbuild.13", "coredns": "v1.14.3-eksbuild.3"}
        ),
        "1.36": MappingProxyType(
            {**_SHARED_ADDONS, "kube-proxy": "v1.36.0-eksbuild.14", "coredns": "v1.14.3-eksbuild.3"}
        ),
    }
)

SUPPORTED_KUBERNETES_VERSIONS = tuple(sorted(EKS_ADDON_VERSIONS, key=lambda v: tuple(map(int, v.split(".")))))

# The five add-ons every cluster gets, in the order they must come up: networking and credentials
# before the first node joins, DNS and storage once nodes exist.
EKS_ADDONS_BEFORE_NODES = ("vpc-cni", "kube-proxy", "eks-pod-identity-agent")
EKS_ADDONS_AFTER_NODES = ("coredns", "aws-ebs-csi-driver")


def eks_addon_versions(kubernetes_version: str) -> MappingProxyType:
    return EKS_ADDON_VERSIONS[kubernetes_version]


# Karpenter: controller chart and its CRD chart, released together (the CRD chart upgrades CRDs, which
# Helm never does for a chart's crds/ folder).
KARPENTER_VERSION = "1.14.1"
KARPENTER_CHART = "oci://public.ecr.aws/karpenter/karpenter"
KARPENTER_CRD_CHART = "oci://public.ecr.aws/karpenter/karpenter-crd"

# EKS-optimized Amazon Linux 2023 release (a tag of awslabs/amazon-eks-ami) for Karpenter's AMI alias.
# Production stacks must pin it; a dev stack may opt into the floating "latest" alias to catch AMI changes early.
AL2023_AMI_ALIAS = "al2023@v20260724"

# Kubeflow Spark Operator (sparkoperator.k8s.io/v1beta2).
SPARK_OPERATOR_VERSION = "2.5.2"
SPARK_OPERATOR_REPO = "https://kubeflow.github.io/spark-operator"

# Apache YuniKorn (optional batch scheduler). Its chart's own image tags float, so they are pinned here.
YUNIKORN_VERSION = "1.8.0"
YUNIKORN_REPO = "https://apache.github.io/yunikorn-release"
