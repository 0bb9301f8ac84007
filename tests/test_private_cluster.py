"""A private cluster (natStrategy none) needs nothing outside AWS: every image any workload or chart of the
stack can run comes from the stack's own ECR (platform images by digest, the charts' public images through
the pull-through cache), and no URL the cluster is configured with points at the internet.

Helm chart repositories are not the cluster's business: whoever runs `pulumi up` fetches the charts and
sends the manifests to the API server; nodes never contact a chart repository.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml

from components.helm import merge_values
from components.registry.mirror import CHART_IMAGES, UPSTREAMS
from components.registry.private import HELM_RELEASE, chart_name
from sparkeks import versions
from sparkeks.conformance import chart_defaults
from sparkeks.jobs.render import render_job
from sparkeks.jobs.spec import JobSpec
from sparkeks.plan.runner import load_stack
from tests.conftest import PRIVATE_NETWORK, PROJECT_ROOT, PULL_THROUGH_SECRET, schemas_dir

ACCOUNT, REGION = "111122223333", "us-east-1"
ECR = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com"
SECRET = PULL_THROUGH_SECRET
# Chart name -> schemas folder of its pinned default values.
CHART_FOLDERS = {
    "karpenter": "karpenter",
    "spark-operator": "spark-operator",
    "kube-prometheus-stack": "kube-prometheus-stack",
    "loki": "loki-community",
    "fluent-bit": "fluent-bit",
    "yunikorn": "yunikorn",
    "opencost": "opencost",
    "celeborn": "celeborn",
}
URL = re.compile(r"\b(?:https?|oci|grpc|wss?)://([^/\s\"':]+)[^\s\"']*")
# In-cluster services, AWS endpoints (reached through the VPC endpoints) and loopback.
INSIDE = re.compile(r"(\.svc(\.cluster\.local)?|\.amazonaws\.com|^localhost|^127\.0\.0\.1|^0\.0\.0\.0|^\$\{?[A-Za-z_]+\}?)$")


def _strings(value: Any, path: str = ""):
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _strings(v, f"{path}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _strings(v, f"{path}[{i}]")
    elif isinstance(value, str):
        yield path, value


def internet_urls(value: Any) -> list[str]:
    return sorted({f"{path}: {m.group(0)}" for path, s in _strings(value) for m in URL.finditer(s) if not INSIDE.search(m.group(1))})


def _image_refs(values: Any, path: str = ""):
    """Every image a chart's values name: (path, registry-or-None, repository)."""
    if isinstance(values, dict):
        if isinstance(values.get("repository"), str) and ("tag" in values or "registry" in values or "digest" in values):
            yield path, values.get("registry"), values["repository"]
        for k, v in values.items():
            yield from _image_refs(v, f"{path}.{k}" if path else k)
    elif isinstance(values, list):
        for i, v in enumerate(values):
            yield from _image_refs(v, f"{path}[{i}]")


def image_host(registry: str | None, repository: str) -> str:
    if registry:
        return registry
    first = repository.split("/", 1)[0]
    return repository if ("." in first or ":" in first) else f"docker.io/{repository}"


def chart_image_problems(chart: str, values: dict[str, Any]) -> list[str]:
    """Images of the chart's defaults merged with the release's values that would not come from ECR."""
    defaults = chart_defaults(schemas_dir(), CHART_FOLDERS[chart])
    if chart == "kube-prometheus-stack":
        defaults = {**defaults, "grafana": merge_values(chart_defaults(schemas_dir(), "grafana"), defaults["grafana"])}
    if chart == "yunikorn":
        # The schemas folder holds the 1.8.0 chart; the pinned 1.10 chart has no plugin image (removed in 1.9).
        defaults = {k: v for k, v in defaults.items() if k != "pluginImage"}
    effective = merge_values(defaults, values)
    return [
        f"{chart}: {path}: {image_host(registry, repository)}"
        for path, registry, repository in _image_refs(effective)
        if not image_host(registry, repository).startswith(f"{ECR}/")
    ]


@pytest.fixture(scope="module")
def private(tmp_path_factory):
    from sparkeks.plan.runner import run_plan
    from tests.conftest import PlanView, make_project, stack_config, with_overrides

    config = with_overrides(stack_config("prod"), network=PRIVATE_NETWORK, spark={"batchScheduler": "yunikorn", "shuffle": {"service": "celeborn"}})
    project = make_project(tmp_path_factory.mktemp("private"), {"prod": config})
    return PlanView(run_plan("prod", project))


def test_every_image_of_every_chart_comes_through_the_stacks_cache(private):
    releases = private.of_type(HELM_RELEASE)
    charts = {chart_name(r["inputs"]["chart"]) for r in releases}
    assert charts == {"karpenter-crd", "karpenter", "spark-operator", "yunikorn", "kube-prometheus-stack", "loki", "fluent-bit", "opencost", "celeborn"}
    problems = []
    for release in releases:
        chart = chart_name(release["inputs"]["chart"])
        if chart in CHART_FOLDERS:
            problems += chart_image_problems(chart, release["inputs"].get("values") or {})
    assert problems == []


def test_the_cache_pulls_each_upstream_with_its_credentials(private):
    rules = {r["inputs"]["ecrRepositoryPrefix"]: r["inputs"] for r in private.of_type("aws:ecr/pullThroughCacheRule:PullThroughCacheRule")}
    assert {prefix: (rule["upstreamRegistryUrl"], rule.get("credentialArn")) for prefix, rule in rules.items()} == {
        "ecr-public": ("public.ecr.aws", None),
        "quay": ("quay.io", None),
        "k8s": ("registry.k8s.io", None),
        "docker-hub": ("registry-1.docker.io", f"{SECRET}docker-hub-AbCdEf"),
        "github": ("ghcr.io", f"{SECRET}github-AbCdEf"),
    }
    used = {image.upstream for images in CHART_IMAGES.values() for image in images}
    assert {UPSTREAMS[u].prefix for u in used} == set(rules)


def test_every_workload_image_is_in_the_stacks_registry(private):
    images = [
        (f"{r['type']}::{r['name']}", value)
        for r in private.of_type_prefix("kubernetes:")
        if r["type"] != HELM_RELEASE
        for path, value in _strings(r["inputs"])
        if path.endswith(".image")
    ]
    assert images, "the History Servers at least"
    # The History Servers' login comes through the cache too, pinned by tag: its digest cannot be
    # established offline (sparkeks/support.yaml).
    login = f"{ECR}/quay/oauth2-proxy/oauth2-proxy:v{versions.OAUTH2_PROXY_VERSION}"
    assert [i for i in images if not re.match(rf"^{re.escape(ECR)}/[^@]+@sha256:[0-9a-f]{{64}}$", i[1]) and i[1] != login] == []
    assert any(i[1] == login for i in images)


def test_nothing_in_the_cluster_points_at_the_internet(private):
    found = []
    for resource in private.of_type_prefix("kubernetes:"):
        inputs = resource["inputs"]
        if resource["type"] == HELM_RELEASE:
            inputs = inputs.get("values") or {}  # the chart's own repository is fetched by the deployer
        found += [f"{resource['name']}{u}" for u in internet_urls(inputs)]
    # The identity provider is the operator's own: a private cluster reaches it over private routes
    # (historyServer.access.issuerCidrs), whatever its URL's name.
    issuer = "https://login.example.com/realms/data-platform"
    assert [f for f in found if not f.endswith(f"args[1]: {issuer}")] == []


def test_every_example_job_of_a_private_stack_needs_nothing_outside_aws(tmp_path):
    config = load_stack("prod", PROJECT_ROOT)
    for path in sorted((PROJECT_ROOT / "examples").glob("*.yaml")):
        spec = JobSpec.model_validate(yaml.safe_load(path.read_text()))
        application = render_job(spec, label=str(path), config=config).application
        assert re.match(rf"^{re.escape(ECR)}/spark-prod/spark-\d+\.\d+@sha256:[0-9a-f]{{64}}$", application["spec"]["image"]), path
        assert "deps" not in application["spec"]
        assert internet_urls(application) == [], path


def test_the_walkers_see_what_would_need_the_internet():
    assert internet_urls({"sparkConf": {"spark.jars.repositories": "https://repo1.maven.org/maven2"}}) == [
        ".sparkConf.spark.jars.repositories: https://repo1.maven.org/maven2"
    ]
    assert internet_urls({"url": "http://loki-gateway.monitoring.svc.cluster.local/loki/api/v1/push"}) == []
    assert sorted(chart_image_problems("fluent-bit", {})) == [
        "fluent-bit: hotReload.image: ghcr.io/jimmidyson/configmap-reload",
        "fluent-bit: image: cr.fluentbit.io/fluent/fluent-bit",
        "fluent-bit: testFramework.image: docker.io/busybox",
    ]


def test_a_private_stack_without_cache_credentials_is_refused_in_one_line(plan_variant):
    from sparkeks.plan.runner import PlanError

    network = {k: v for k, v in PRIVATE_NETWORK.items() if k != "pullThroughCredentials"}
    with pytest.raises(PlanError) as err:
        plan_variant("prod", network=network)
    assert err.value.lines == [
        "stacks/Pulumi.prod.yaml: spark-on-eks:network.pullThroughCredentials: (missing): without NAT the charts' images come "
        "through ECR pull-through cache, which needs credentials for dockerHub, github; set them (Secrets Manager ARNs) or choose perZone/single"
    ]


def test_the_cache_overrides_use_only_keys_the_charts_define(private):
    from tests.test_conformance import _unknown

    unknown = {}
    for release in private.of_type(HELM_RELEASE):
        chart = chart_name(release["inputs"]["chart"])
        if chart in CHART_FOLDERS:
            unknown[chart] = _unknown(chart, release["inputs"].get("values") or {})
    assert unknown == {chart: [] for chart in unknown} and len(unknown) == 8
