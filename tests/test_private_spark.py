"""A private cluster (natStrategy none) runs Spark without the internet: every image the Spark workloads
reference is in the stack's own ECR by digest, and nothing they are configured with points outside AWS."""

from __future__ import annotations

import re
from typing import Any

import yaml

from sparkeks.jobs.render import render_job
from sparkeks.jobs.spec import JobSpec
from sparkeks.plan.runner import PROJECT_ROOT, load_stack

PRIVATE_NETWORK = {"natStrategy": "none", "interfaceEndpoints": ["ec2", "ecr.api", "ecr.dkr", "eks-auth", "sqs", "ssm", "sts"]}
ECR_BY_DIGEST = re.compile(r"^111122223333\.dkr\.ecr\.us-east-1\.amazonaws\.com/spark-prod/spark-\d+\.\d+@sha256:[0-9a-f]{64}$")
# What may appear in Spark settings: S3 through the gateway endpoint, cluster-local names, file paths.
URL = re.compile(r"[a-z][a-z0-9+.-]*://[^\s\"']+")


def _strings(value: Any):
    if isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)
    elif isinstance(value, str):
        yield value


def _internet_urls(value: Any) -> list[str]:
    return [u for s in _strings(value) for u in URL.findall(s) if not u.startswith(("s3a://", "s3://", "local://", "file://"))]


def test_history_servers_of_a_private_stack_pull_only_from_its_registry(plan_variant):
    view = plan_variant("prod", network=PRIVATE_NETWORK)
    servers = [r for r in view.of_type("kubernetes:apps/v1:Deployment") if r["name"].startswith("history-")]
    assert [s["name"] for s in servers] == ["history-analytics", "history-ml-platform"]
    for server in servers:
        pod = server["inputs"]["spec"]["template"]["spec"]
        images = [c["image"] for c in pod.get("initContainers", []) + pod["containers"]]
        assert images and all(ECR_BY_DIGEST.match(i) for i in images), images
        assert _internet_urls(pod) == []


def test_every_example_job_of_a_private_stack_needs_nothing_outside_aws():
    config = load_stack("prod", PROJECT_ROOT)
    for path in sorted((PROJECT_ROOT / "examples").glob("*.yaml")):
        spec = JobSpec.model_validate(yaml.safe_load(path.read_text()))
        application = render_job(spec, label=str(path), config=config).application
        assert ECR_BY_DIGEST.match(application["spec"]["image"]), path
        assert "deps" not in application["spec"]
        assert _internet_urls(application) == [], path


def test_the_walker_sees_an_internet_reference():
    assert _internet_urls({"spec": {"sparkConf": {"spark.jars.repositories": "https://repo1.maven.org/maven2"}}}) == [
        "https://repo1.maven.org/maven2"
    ]
