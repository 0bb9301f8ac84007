"""Every upstream version this project deploys, pinned in one place.

Nothing here says "latest": a version changes only by a commit that edits this file, so a plan diff
shows every upgrade. Add-on builds are pinned per Kubernetes minor because kube-proxy and CoreDNS
track the control plane's version.
"""

from __future__ import annotations

from dataclasses import dataclass
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

# Apache Celeborn (optional remote shuffle service, `spark.shuffle.service: celeborn`). The chart has no Helm
# repository upstream: it ships inside the Apache release archive (charts/celeborn, chart 0.1.0 for
# Celeborn 0.7.0, marked experimental), which `make celeborn-chart` fetches and checks against the
# SHA-512 Apache publishes beside it. Its clients for Spark 3.5 and for every Spark 4.x line are on Maven
# Central (`celeborn-client-spark-3-shaded_2.12`, `celeborn-client-spark-4-shaded_2.13`; the release
# script builds the Spark 4 one against Spark 4.2 and upstream CI runs it on Spark 4.0, 4.1 and 4.2).
CELEBORN_VERSION = "0.7.0"
CELEBORN_CHART_VERSION = "0.1.0"
CELEBORN_CHART_DIR = f"build/charts/celeborn-{CELEBORN_VERSION}/celeborn"
CELEBORN_RELEASE_URL = f"https://archive.apache.org/dist/celeborn/celeborn-{CELEBORN_VERSION}/apache-celeborn-{CELEBORN_VERSION}-source.tgz"
CELEBORN_IMAGE = "apache/celeborn"


def celeborn_client_jar(scala: str, spark_major: int) -> str:
    """Maven coordinate of the shaded Celeborn Spark client for a Spark major version and Scala."""
    return f"org.apache.celeborn:celeborn-client-spark-{spark_major}-shaded_{scala}:{CELEBORN_VERSION}"


# Apache YuniKorn, the default batch scheduler; its image tags (scheduler-, admission-, web-<version>) follow it.
# 1.10.0 or later: every earlier release has two admission-control bypasses (see issue 19).
# Chart values are checked against the pinned 1.8.0 chart and the upstream chart after it (tests/test_yunikorn_chart.py).
YUNIKORN_VERSION = "1.10.0"
YUNIKORN_REPO = "https://apache.github.io/yunikorn-release"


@dataclass(frozen=True)
class SparkRuntime:
    """One supported Spark line: the official image the platform image builds on, and the jars baked into it.

    Every jar here is part of the line's platform image (`images/Dockerfile`), verified against the
    SHA-256 pinned for it in `images/pins.json`. Adding a jar to every image of a line is one coordinate
    in `extra_jars` (its checksum is pinned by the images workflow, or by hand from two sources).
    """

    spark_version: str
    scala: str
    java: str
    hadoop: str
    dataflint: str
    """Maven coordinates of the Dataflint plugin built for this Spark and Scala."""
    s3a: tuple[str, ...]
    """hadoop-aws matching the image's Hadoop, and an AWS SDK new enough for EKS Pod Identity."""
    credentials_provider: str
    sdk_major: int
    sdk_version: str
    extra_jars: tuple[str, ...] = ()
    celeborn_client: str | None = None
    """The shaded Celeborn Spark client for this line (None: the pinned Celeborn has no client for it). Inert
    in the image until a job's `spark.shuffle.manager` names it."""

    @property
    def minor(self) -> str:
        return ".".join(self.spark_version.split(".")[:2])

    @property
    def base_image(self) -> str:
        """The official Apache Spark image (tag; its digest is pinned in images/pins.json)."""
        return f"{SPARK_BASE_REPOSITORY}:{self.spark_version}-scala{self.scala}-java{self.java}-python3-ubuntu"

    @property
    def jars(self) -> tuple[str, ...]:
        """Every jar the platform image adds, in the order the build fetches them."""
        return (*self.s3a, self.dataflint, *self.extra_jars, *((self.celeborn_client,) if self.celeborn_client else ()))


# apache/spark is what apache/spark-docker publishes (the Docker "Official Image" `spark` is built from
# the same Dockerfiles). Only the image workflow pulls it; clusters pull the platform image from ECR.
SPARK_BASE_REPOSITORY = "apache/spark"
DATAFLINT_VERSION = "0.9.8"
# EKS Pod Identity needs AWS SDK for Java v1 >= 1.12.746 or v2 >= 2.21.30.
POD_IDENTITY_MIN_SDK = {1: (1, 12, 746), 2: (2, 21, 30)}

# Lines offered: those with an official apache/spark image and a Dataflint build (checked 2026-11-29:
# spark-docker publishes 3.5.9, 4.0.4, 4.1.3 and 4.2.0; 4.3.0 is on PyPI but has no official image yet).
# Dataflint ships one artifact for every Spark 4.x (`dataflint-spark4_2.13`).
SPARK_RUNTIMES = MappingProxyType(
    {
        # Hadoop 3.3.4's hadoop-aws was built against SDK v1 1.12.262, too old for Pod Identity: the
        # bundle is raised to the last 1.12 release, which hadoop-aws 3.3.x runs with.
        "3.5": SparkRuntime(
            spark_version="3.5.9",
            scala="2.12",
            java="17",
            hadoop="3.3.4",
            dataflint=f"io.dataflint:spark_2.12:{DATAFLINT_VERSION}",
            s3a=("org.apache.hadoop:hadoop-aws:3.3.4", "com.amazonaws:aws-java-sdk-bundle:1.12.797"),
            credentials_provider="com.amazonaws.auth.DefaultAWSCredentialsProviderChain",
            sdk_major=1,
            sdk_version="1.12.797",
            celeborn_client=celeborn_client_jar("2.12", 3),
        ),
        # Hadoop 3.4.1's hadoop-aws uses SDK v2 2.24.6, which supports Pod Identity as it is.
        "4.0": SparkRuntime(
            spark_version="4.0.4",
            scala="2.13",
            java="17",
            hadoop="3.4.1",
            dataflint=f"io.dataflint:dataflint-spark4_2.13:{DATAFLINT_VERSION}",
            s3a=("org.apache.hadoop:hadoop-aws:3.4.1", "software.amazon.awssdk:bundle:2.24.6"),
            credentials_provider="software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider",
            sdk_major=2,
            sdk_version="2.24.6",
            celeborn_client=celeborn_client_jar("2.13", 4),
        ),
        # Spark 4.1 builds against Hadoop 3.4.2, whose hadoop-aws was qualified with SDK v2 2.29.52
        # (HADOOP-19485).
        "4.1": SparkRuntime(
            spark_version="4.1.3",
            scala="2.13",
            java="21",
            hadoop="3.4.2",
            dataflint=f"io.dataflint:dataflint-spark4_2.13:{DATAFLINT_VERSION}",
            s3a=("org.apache.hadoop:hadoop-aws:3.4.2", "software.amazon.awssdk:bundle:2.29.52"),
            credentials_provider="software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider",
            sdk_major=2,
            sdk_version="2.29.52",
            celeborn_client=celeborn_client_jar("2.13", 4),
        ),
        # Spark 4.2 moved to Hadoop 3.5.0 (SPARK-55657; pyspark 4.2.0 ships hadoop-client 3.5.0), whose
        # hadoop-aws needs SDK v2 2.35.4 (HADOOP-19654; older SDKs lack ChecksumAlgorithm.CRC64_NVME).
        "4.2": SparkRuntime(
            spark_version="4.2.0",
            scala="2.13",
            java="21",
            hadoop="3.5.0",
            dataflint=f"io.dataflint:dataflint-spark4_2.13:{DATAFLINT_VERSION}",
            s3a=("org.apache.hadoop:hadoop-aws:3.5.0", "software.amazon.awssdk:bundle:2.35.4"),
            credentials_provider="software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider",
            sdk_major=2,
            sdk_version="2.35.4",
            celeborn_client=celeborn_client_jar("2.13", 4),
        ),
    }
)
NEWEST_SPARK = max(SPARK_RUNTIMES, key=lambda v: tuple(map(int, v.split("."))))
# The tests run Spark locally on the oldest and the newest line: their metric names differ.
OLDEST_SPARK = min(SPARK_RUNTIMES, key=lambda v: tuple(map(int, v.split("."))))
# The line examples and new jobs start on: supported upstream and the most patched of the current lines.
DEFAULT_SPARK_LINE = "4.1"


@dataclass(frozen=True)
class MavenJar:
    """A jar on Maven Central, by coordinate: where the image workflow fetches it and its published SHA-1."""

    coordinate: str

    @property
    def file_name(self) -> str:
        _, artifact, version = self.coordinate.split(":")
        return f"{artifact}-{version}.jar"

    @property
    def url(self) -> str:
        group, artifact, version = self.coordinate.split(":")
        return f"{MAVEN_CENTRAL}/{group.replace('.', '/')}/{artifact}/{version}/{self.file_name}"

    @property
    def sha1_url(self) -> str:
        return f"{self.url}.sha1"


MAVEN_CENTRAL = "https://repo1.maven.org/maven2"

# Observability charts.
KUBE_PROMETHEUS_STACK_VERSION = "88.5.3"
PROMETHEUS_COMMUNITY_REPO = "https://prometheus-community.github.io/helm-charts"
# The open-source Loki chart's home since 2026 (grafana/loki's chart now targets Enterprise Logs).
LOKI_VERSION = "18.11.0"
GRAFANA_COMMUNITY_REPO = "https://grafana-community.github.io/helm-charts"
FLUENT_BIT_VERSION = "0.58.1"
FLUENT_REPO = "https://fluent.github.io/helm-charts"

# OpenCost (cost per namespace and Spark application, priced from the stack's price table).
OPENCOST_VERSION = "2.5.17"
OPENCOST_REPO = "https://opencost.github.io/opencost-helm-chart"

# oauth2-proxy: the OIDC login in front of each team's History Server (components/history_server/proxy.py).
# Pinned by tag: its digest is not available offline (the deploy pulls and verifies it).
OAUTH2_PROXY_VERSION = "7.15.3"
OAUTH2_PROXY_IMAGE = f"quay.io/oauth2-proxy/oauth2-proxy:v{OAUTH2_PROXY_VERSION}"
