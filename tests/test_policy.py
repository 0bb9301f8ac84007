"""Guardrails: every rule caught and passed on single resources, run through the Pulumi policy pack's
own classes, over the shipped stacks' offline plans (which pass), and over variants of those plans that
break one rule each (which fail with that rule's message)."""

from __future__ import annotations

import copy
import json
import re

import pytest
import yaml

from sparkeks import cli
from sparkeks.plan.runner import SECRET_PLACEHOLDER
from sparkeks.plan.writer import inventory_of
from sparkeks.policy import rules
from sparkeks.policy.offline import check_inventory, report, resources_of
from sparkeks.policy.rules import RULES, UNKNOWN, Resource, evaluate
from tests.conftest import PROJECT_ROOT

ALLOW = {"Effect": "Allow", "Resource": "*"}


def _doc(*statements) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def _messages(*resources: Resource) -> list[str]:
    return [f"{v.policy}: {v.message}" for v in evaluate(list(resources))]


def _bucket(name="data", *, env="dev", protect=False, force_destroy=False, tags=None) -> Resource:
    provider = {"defaultTags": json.dumps({"tags": {"spark-on-eks/environment": env}})}
    inputs = {"bucket": name, "forceDestroy": force_destroy, **({"tags": tags} if tags else {})}
    return Resource(f"b::{name}", rules.BUCKET, f"{name}-bucket", inputs, protect=protect, provider_inputs=provider)


def _hardened(name="data", *, by_dependency=False) -> list[Resource]:
    """A bucket's public access block, encryption and TLS-only policy, attached by name or (as in a
    preview, where the new bucket's name is unknown) by dependency."""
    target = UNKNOWN if by_dependency else name
    deps = frozenset({f"b::{name}"}) if by_dependency else frozenset()
    deny_http = {
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [f"arn:aws:s3:::{name}", f"arn:aws:s3:::{name}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }
    flags = dict.fromkeys(("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"), True)
    sse = [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}]
    return [
        Resource(
            f"pab::{name}", rules.PUBLIC_ACCESS_BLOCK, f"{name}-public-access", {"bucket": target, **flags}, depends_on=deps
        ),
        Resource(f"sse::{name}", rules.ENCRYPTION, f"{name}-encryption", {"bucket": target, "rules": sse}, depends_on=deps),
        Resource(
            f"pol::{name}",
            rules.BUCKET_POLICY,
            f"{name}-tls-only",
            {"bucket": target, "policy": _doc(deny_http)},
            depends_on=deps,
        ),
    ]


def _without(resources: list[Resource], typ: str) -> list[Resource]:
    return [r for r in resources if r.type != typ]


def _replace(resources: list[Resource], typ: str, **inputs) -> list[Resource]:
    return [
        Resource(r.key, r.type, r.name, {**r.inputs, **inputs}, r.protect, r.provider_inputs, r.depends_on)
        if r.type == typ
        else r
        for r in resources
    ]


def _node_class(tokens="required", hops=1) -> Resource:
    spec = {"metadataOptions": {"httpEndpoint": "enabled", "httpTokens": tokens, "httpPutResponseHopLimit": hops}}
    return Resource("nc", rules.NODE_CLASS, "karpenter-class-default", {"kind": "EC2NodeClass", "spec": spec})


def _pool(name="karpenter-pool-spark-driver", *, label="spark-driver", capacity=("on-demand",), limits=None) -> Resource:
    requirements = [{"key": "kubernetes.io/arch", "operator": "In", "values": ["amd64"]}]
    if capacity is not None:
        requirements.append({"key": "karpenter.sh/capacity-type", "operator": "In", "values": list(capacity)})
    spec = {
        "limits": {"cpu": "512", "memory": "2048Gi"} if limits is None else limits,
        "template": {"metadata": {"labels": {"spark-on-eks.io/pool": label}}, "spec": {"requirements": requirements}},
    }
    return Resource(name, rules.NODE_POOL, name, {"kind": "NodePool", "spec": spec})


def _release(values) -> Resource:
    return Resource(
        "rel", rules.HELM_RELEASE, "observability-kube-prometheus-stack", {"name": "kube-prometheus-stack", "values": values}
    )


# --- each rule, one way and the other ------------------------------------------------------------


def test_every_policy_has_a_name_description_and_a_test_below():
    names = [rule.name for rule in RULES]
    assert names == [
        "no-wildcard-iam-actions",
        "s3-public-access-blocked",
        "s3-encrypted",
        "s3-tls-only",
        "s3-protected-in-prod",
        "imdsv2-hop-limit-1",
        "nodepool-limits",
        "drivers-never-on-spot",
        "no-plaintext-secrets-in-helm-values",
    ]
    assert all(rule.description.endswith(".") for rule in RULES)


def test_wildcard_iam_actions():
    def role_policy(*statements):
        return Resource("rp", "aws:iam/rolePolicy:RolePolicy", "team-analytics-spark-data", {"policy": _doc(*statements)})

    assert _messages(role_policy({**ALLOW, "Sid": "Read", "Action": ["s3:GetObject", "s3:ListBucket"]})) == []
    # Deny statements may be broad: the TLS-only bucket policy denies s3:*.
    assert _messages(role_policy({"Effect": "Deny", "Action": "s3:*", "Resource": "*"})) == []
    assert _messages(
        role_policy({**ALLOW, "Sid": "Everything", "Action": ["s3:GetObject", "s3:*"]}, {**ALLOW, "Action": "ec2:Describe*"})
    ) == [
        "no-wildcard-iam-actions: team-analytics-spark-data: policy statement Everything allows wildcard action 's3:*'; list the actions it needs",
        "no-wildcard-iam-actions: team-analytics-spark-data: policy statement 1 allows wildcard action 'ec2:Describe*'; list the actions it needs",
    ]
    assert _messages(role_policy({**ALLOW, "Sid": "AllBut", "NotAction": "iam:*"})) == [
        "no-wildcard-iam-actions: team-analytics-spark-data: policy statement AllBut allows NotAction (every other action); list the actions it needs"
    ]
    inline = Resource(
        "r",
        "aws:iam/role:Role",
        "karpenter-node",
        {
            "assumeRolePolicy": _doc({**ALLOW, "Action": "sts:AssumeRole"}),
            "inlinePolicies": [{"policy": _doc({**ALLOW, "Action": "*"})}],
        },
    )
    assert _messages(inline) == [
        "no-wildcard-iam-actions: karpenter-node: inlinePolicies[0] statement 0 allows wildcard action '*'; list the actions it needs"
    ]


def test_public_access_blocked():
    assert _messages(_bucket(), *_hardened()) == []
    assert _messages(_bucket(), *_without(_hardened(), rules.PUBLIC_ACCESS_BLOCK)) == [
        "s3-public-access-blocked: data-bucket: no BucketPublicAccessBlock; block all four kinds of public access"
    ]
    assert _messages(_bucket(), *_replace(_hardened(), rules.PUBLIC_ACCESS_BLOCK, restrictPublicBuckets=False)) == [
        "s3-public-access-blocked: data-bucket: public access block data-public-access leaves restrictPublicBuckets off; set all four to true"
    ]
    # Another bucket's block does not count.
    assert "s3-public-access-blocked" in " ".join(
        _messages(_bucket("other"), *_hardened("data"), *_without(_hardened("other"), rules.PUBLIC_ACCESS_BLOCK))
    )


def test_encrypted():
    assert _messages(_bucket(), *_without(_hardened(), rules.ENCRYPTION)) == [
        "s3-encrypted: data-bucket: no default server-side encryption; add a BucketServerSideEncryptionConfiguration (AES256 or aws:kms)"
    ]
    kms = [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms", "kmsMasterKeyId": "alias/data"}}]
    assert _messages(_bucket(), *_replace(_hardened(), rules.ENCRYPTION, rules=kms)) == []


def test_tls_only():
    assert _messages(_bucket(), *_without(_hardened(), rules.BUCKET_POLICY)) == [
        "s3-tls-only: data-bucket: no bucket policy denying s3:* when aws:SecureTransport is false; requests without TLS must be refused"
    ]
    allow_only = _doc({**ALLOW, "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "s3:GetObject"})
    assert _messages(_bucket(), *_replace(_hardened(), rules.BUCKET_POLICY, policy=allow_only)) == [
        "s3-tls-only: data-bucket: no bucket policy denying s3:* when aws:SecureTransport is false; requests without TLS must be refused"
    ]


def test_bucket_settings_attach_by_dependency_when_a_preview_cannot_know_the_name():
    bucket = Resource("b::data", rules.BUCKET, "data-bucket", {"bucket": UNKNOWN})
    assert _messages(bucket, *_hardened(by_dependency=True)) == []
    assert [m.split(":")[0] for m in _messages(bucket, *_without(_hardened(by_dependency=True), rules.ENCRYPTION))] == [
        "s3-encrypted"
    ]


def test_protected_in_prod():
    assert _messages(_bucket(env="prod", protect=True), *_hardened()) == []
    assert _messages(_bucket(env="dev"), *_hardened()) == []
    assert _messages(_bucket(env="prod", protect=False, force_destroy=True), *_hardened()) == [
        "s3-protected-in-prod: data-bucket: a prod bucket must be protected (protect=True); its data outlives the stack",
        "s3-protected-in-prod: data-bucket: a prod bucket must not be force-destroyed (forceDestroy=false)",
    ]
    # The bucket's own environment tag wins over the provider's default tags.
    assert _messages(_bucket(env="dev", tags={"spark-on-eks/environment": "prod"}), *_hardened())[0].startswith(
        "s3-protected-in-prod: data-bucket: a prod bucket"
    )


def test_imdsv2_hop_limit_on_node_classes_and_launch_templates():
    assert _messages(_node_class()) == []
    assert _messages(_node_class(tokens="optional", hops=2)) == [
        "imdsv2-hop-limit-1: karpenter-class-default: metadataOptions.httpTokens is 'optional'; IMDSv2 only: 'required'",
        "imdsv2-hop-limit-1: karpenter-class-default: metadataOptions.httpPutResponseHopLimit is 2; 1 keeps pods off the node's credentials",
    ]
    template = Resource(
        "lt",
        rules.LAUNCH_TEMPLATE,
        "cluster-system",
        {"metadataOptions": {"httpTokens": "required", "httpPutResponseHopLimit": 1}},
    )
    assert _messages(template) == []
    bare = Resource("lt", rules.LAUNCH_TEMPLATE, "cluster-system", {"description": "no metadata options"})
    assert _messages(bare) == [
        "imdsv2-hop-limit-1: cluster-system: metadataOptions.httpTokens is None; IMDSv2 only: 'required'",
        "imdsv2-hop-limit-1: cluster-system: metadataOptions.httpPutResponseHopLimit is None; 1 keeps pods off the node's credentials",
    ]


def test_nodepool_limits():
    assert _messages(_pool()) == []
    assert _messages(_pool(limits={"cpu": "512"})) == [
        "nodepool-limits: karpenter-pool-spark-driver: spec.limits has no memory; an unbounded pool can launch without end"
    ]
    assert _messages(_pool(limits={})) == [
        "nodepool-limits: karpenter-pool-spark-driver: spec.limits has no cpu or memory; an unbounded pool can launch without end"
    ]


def test_drivers_never_on_spot():
    message = (
        "drivers-never-on-spot: karpenter-pool-spark-driver: the driver pool must require karpenter.sh/capacity-type In [on-demand]; "
        "a reclaimed driver fails the whole application"
    )
    assert _messages(_pool(capacity=("spot", "on-demand"))) == [message]
    assert _messages(_pool(capacity=None)) == [message]
    assert _messages(_pool(capacity=("on-demand",))) == []
    # Executors may run on spot.
    assert _messages(_pool("karpenter-pool-spark-executor", label="spark-executor", capacity=("spot",))) == []


def test_no_plaintext_secrets_in_helm_values():
    referenced = {
        "grafana": {"admin": {"existingSecret": "grafana-admin", "userKey": "admin-user", "passwordKey": "admin-password"}}
    }
    assert _messages(_release(referenced)) == []
    assert _messages(_release({"grafana": {"adminPassword": "hunter2"}})) == [
        "no-plaintext-secrets-in-helm-values: observability-kube-prometheus-stack: values.grafana.adminPassword holds a secret-named key "
        "with a literal value; Helm stores values in plain text: put the secret in a Kubernetes Secret from Pulumi secret config and reference it"
    ]
    slack = {
        "alertmanager": {"config": {"receivers": [{"slack_configs": [{"api_url": "https://hooks.slack.com/services/T0/B0/x"}]}]}}
    }
    assert _messages(_release(slack))[0].startswith(
        "no-plaintext-secrets-in-helm-values: observability-kube-prometheus-stack: values.alertmanager.config.receivers[0].slack_configs[0].api_url "
        "holds a Slack webhook URL;"
    )
    offline = {"loki": {"storage": {"s3": {"accessKeyId": "x", "secretAccessKey": SECRET_PLACEHOLDER}}}}
    assert [m.split("; ")[0] for m in _messages(_release(offline))] == [
        "no-plaintext-secrets-in-helm-values: observability-kube-prometheus-stack: values.loki.storage.s3.secretAccessKey holds a secret-named key with a literal value"
    ]
    assert (
        _messages(_release({"extraEnv": [{"name": "KEY", "value": "AKIAABCDEFGHIJKLMNOP"}]}))[0]
        .split("; ")[0]
        .endswith("values.extraEnv[0].value holds an AWS access key id")
    )


def test_unknown_values_are_never_violations():
    assert _messages(_node_class(tokens=UNKNOWN, hops=UNKNOWN)) == []
    assert _messages(_pool(limits=UNKNOWN), _pool(capacity=(UNKNOWN,))) == []
    assert _messages(_release({"grafana": {"adminPassword": UNKNOWN}})) == []


def test_the_rules_know_the_plans_secret_placeholder():
    assert rules.OFFLINE_SECRET == SECRET_PLACEHOLDER


# --- the Pulumi policy pack runs the same rules ----------------------------------------------------


def _pack():
    from sparkeks.policy.pack import policies

    return {policy.name: policy for policy in policies()}


def _proxied(props):
    from pulumi_policy.proxy import unknown_checking_proxy

    return unknown_checking_proxy(copy.deepcopy(props))


def _resource_args(resource: Resource, inputs=None):
    from pulumi_policy import PolicyProviderResource, PolicyResourceOptions, ResourceValidationArgs

    opts = PolicyResourceOptions(resource.protect, [], None, [], None, [], None)
    provider = PolicyProviderResource("pulumi:providers:aws", _proxied(dict(resource.provider_inputs)), "urn:provider", "aws")
    return ResourceValidationArgs(
        resource.type,
        _proxied(dict(inputs if inputs is not None else resource.inputs)),
        resource.key,
        resource.name,
        opts,
        provider,
        {},
    )


def _policy_resource(resource: Resource, by_urn: dict):
    from pulumi_policy import PolicyResource, PolicyResourceOptions

    opts = PolicyResourceOptions(resource.protect, [], None, [], None, [], None)
    deps = [by_urn[k] for k in sorted(resource.depends_on) if k in by_urn]
    return PolicyResource(
        resource.type, _proxied(dict(resource.inputs)), resource.key, resource.name, opts, None, None, deps, {"bucket": deps}
    )


def test_the_pack_declares_every_rule_as_mandatory():
    from pulumi_policy import EnforcementLevel, ResourceValidationPolicy, StackValidationPolicy

    pack = _pack()
    assert list(pack) == [rule.name for rule in RULES]
    for rule in RULES:
        kind = ResourceValidationPolicy if rule.types else StackValidationPolicy
        assert isinstance(pack[rule.name], kind) and pack[rule.name].enforcement_level == EnforcementLevel.MANDATORY
        assert pack[rule.name].description == rule.description


def test_resource_policies_report_the_rules_messages():
    reported = []
    pool = _pool(capacity=("spot",))
    _pack()["drivers-never-on-spot"].validate(_resource_args(pool), lambda message, urn=None: reported.append(message))
    assert reported == [m.split(": ", 1)[1] for m in _messages(pool)]
    bucket = _bucket(env="prod", protect=False)
    reported.clear()
    _pack()["s3-protected-in-prod"].validate(_resource_args(bucket), lambda message, urn=None: reported.append(message))
    assert reported == ["data-bucket: a prod bucket must be protected (protect=True); its data outlives the stack"]


def test_resource_policies_pass_unknown_preview_values():
    from pulumi_policy.proxy import UNKNOWN_NUMBER_VALUE, UNKNOWN_STRING_VALUE

    reported = []
    node_class = _node_class()
    inputs = {"spec": {"metadataOptions": {"httpTokens": UNKNOWN_STRING_VALUE, "httpPutResponseHopLimit": UNKNOWN_NUMBER_VALUE}}}
    _pack()["imdsv2-hop-limit-1"].validate(_resource_args(node_class, inputs), lambda message, urn=None: reported.append(message))
    assert reported == []
    _pack()["imdsv2-hop-limit-1"].validate(
        _resource_args(node_class, {"spec": {"metadataOptions": {"httpTokens": "optional", "httpPutResponseHopLimit": 1}}}),
        lambda message, urn=None: reported.append(message),
    )
    assert reported == ["karpenter-class-default: metadataOptions.httpTokens is 'optional'; IMDSv2 only: 'required'"]


def test_stack_policies_follow_property_dependencies_to_the_bucket():
    from pulumi_policy import StackValidationArgs
    from pulumi_policy.proxy import UNKNOWN_STRING_VALUE

    bucket = Resource("b::data", rules.BUCKET, "data-bucket", {"bucket": UNKNOWN_STRING_VALUE})
    by_urn = {bucket.key: _policy_resource(bucket, {})}
    settings = [r for r in _hardened(by_dependency=True) if r.type != rules.PUBLIC_ACCESS_BLOCK]
    settings = [
        Resource(r.key, r.type, r.name, {**r.inputs, "bucket": UNKNOWN_STRING_VALUE}, depends_on=r.depends_on) for r in settings
    ]
    args = StackValidationArgs([by_urn[bucket.key], *(_policy_resource(r, by_urn) for r in settings)])
    reported = []
    for name in ("s3-public-access-blocked", "s3-encrypted", "s3-tls-only"):
        _pack()[name].validate(args, lambda message, urn=None, name=name: reported.append((name, urn, message)))
    assert reported == [
        ("s3-public-access-blocked", "b::data", "data-bucket: no BucketPublicAccessBlock; block all four kinds of public access")
    ]


@pytest.fixture(scope="module")
def analyzer():
    """The pack as the Pulumi CLI runs it: policy/__main__.py serving the analyzer protocol on loopback."""
    import subprocess
    import sys

    import grpc
    from pulumi.runtime.proto import analyzer_pb2_grpc

    process = subprocess.Popen([sys.executable, str(PROJECT_ROOT / "policy" / "__main__.py")], stdout=subprocess.PIPE, text=True)
    try:
        port = process.stdout.readline().strip()
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            yield analyzer_pb2_grpc.AnalyzerStub(channel)
    finally:
        process.terminate()
        process.wait(timeout=30)


def _struct(data):
    from google.protobuf import struct_pb2

    message = struct_pb2.Struct()
    message.update(data)
    return message


def test_the_pack_serves_every_rule(analyzer):
    from google.protobuf import empty_pb2

    info = analyzer.GetAnalyzerInfo(empty_pb2.Empty())
    assert info.name == "spark-on-eks-guardrails"
    assert [p.name for p in info.policies] == [rule.name for rule in RULES]


def test_the_pack_analyzes_resources_over_grpc(analyzer):
    from pulumi.runtime.proto import analyzer_pb2

    def analyze(metadata_options):
        request = analyzer_pb2.AnalyzeRequest(
            type=rules.NODE_CLASS,
            properties=_struct({"kind": "EC2NodeClass", "spec": {"metadataOptions": metadata_options}}),
            urn="urn:pulumi:prod::spark-on-eks::kubernetes:karpenter.k8s.aws/v1:EC2NodeClass::karpenter-class-default",
            name="karpenter-class-default",
            options=analyzer_pb2.AnalyzerResourceOptions(),
        )
        return [(d.policyName, d.enforcementLevel, d.message) for d in analyzer.Analyze(request).diagnostics]

    assert analyze({"httpTokens": "required", "httpPutResponseHopLimit": 1}) == []
    description = next(r.description for r in RULES if r.name == "imdsv2-hop-limit-1")
    mandatory = analyzer_pb2.EnforcementLevel.Value("MANDATORY")
    assert analyze({"httpTokens": "required", "httpPutResponseHopLimit": 2}) == [
        (
            "imdsv2-hop-limit-1",
            mandatory,
            f"{description}\nkarpenter-class-default: metadataOptions.httpPutResponseHopLimit is 2; 1 keeps pods off the node's credentials",
        )
    ]


def test_the_pack_project_runs_in_its_own_pinned_virtualenv():
    project = yaml.safe_load((PROJECT_ROOT / "policy" / "PulumiPolicy.yaml").read_text())
    assert project["runtime"] == {"name": "python", "options": {"virtualenv": "venv"}}
    assert re.fullmatch(r"\d+\.\d+\.\d+", project["version"])
    pins = dict(
        line.split("==") for line in (PROJECT_ROOT / "policy" / "requirements.txt").read_text().splitlines() if "==" in line
    )
    runtime = dict(line.split("==") for line in (PROJECT_ROOT / "requirements.txt").read_text().splitlines() if "==" in line)
    assert pins["pulumi"] == runtime["pulumi"]
    from importlib.metadata import version

    assert version("pulumi-policy") == pins["pulumi-policy"]


# --- over offline plans ---------------------------------------------------------------------------


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_shipped_stacks_pass(stack, request):
    view = request.getfixturevalue(stack)
    assert evaluate(resources_of(inventory_of(view.plan))) == []


def test_a_stack_running_celeborn_passes(celeborn):
    # Its workers' NodePool, Helm release and NetworkPolicies are what the shipped stacks do not plan.
    assert "celeborn-pool-celeborn-worker" in [r["name"] for r in celeborn.of_type(rules.NODE_POOL)]
    assert evaluate(resources_of(inventory_of(celeborn.plan))) == []


def test_plan_policy_flag_passes_prod(tmp_path, capsys):
    assert cli.main(["plan", "prod", "--quiet", "--policy", "--out", str(tmp_path)]) == 0
    assert capsys.readouterr().err.splitlines()[-1] == "9/9 policies pass"


def _break(inventory: dict, typ: str, name: str, change) -> dict:
    broken = copy.deepcopy(inventory)
    [entry] = [r for r in broken["resources"] if r["type"] == typ and r["name"] == name]
    change(entry)
    return broken


def _set(path: list, value):
    def change(entry):
        node = entry
        for step in path[:-1]:
            node = node[step]
        node[path[-1]] = value

    return change


def _add_spot(entry):
    [capacity] = [
        r for r in entry["inputs"]["spec"]["template"]["spec"]["requirements"] if r["key"] == "karpenter.sh/capacity-type"
    ]
    capacity["values"] = ["spot", "on-demand"]


def _wildcard(entry):
    policy = json.loads(entry["inputs"]["policy"])
    policy["Statement"][0]["Action"] = "s3:*"
    entry["inputs"]["policy"] = json.dumps(policy)


def _drop(typ: str, name: str):
    return lambda inventory: {
        **inventory,
        "resources": [r for r in inventory["resources"] if not (r["type"] == typ and r["name"] == name)],
    }


VARIANTS = {
    "no-wildcard-iam-actions": (
        lambda inv: _break(inv, "aws:iam/rolePolicy:RolePolicy", "observability-loki-bucket", _wildcard),
        "aws:iam/rolePolicy:RolePolicy::observability-loki-bucket: observability-loki-bucket: policy statement LocateBuckets allows wildcard action 's3:*'",
    ),
    "s3-public-access-blocked": (
        _drop(rules.PUBLIC_ACCESS_BLOCK, "spark-storage-public-access"),
        "aws:s3/bucket:Bucket::spark-storage-bucket: spark-storage-bucket: no BucketPublicAccessBlock",
    ),
    "s3-encrypted": (
        _drop(rules.ENCRYPTION, "observability-loki-encryption"),
        "aws:s3/bucket:Bucket::observability-loki-bucket: observability-loki-bucket: no default server-side encryption",
    ),
    "s3-tls-only": (
        _drop(rules.BUCKET_POLICY, "spark-storage-tls-only"),
        "aws:s3/bucket:Bucket::spark-storage-bucket: spark-storage-bucket: no bucket policy denying s3:*",
    ),
    "s3-protected-in-prod": (
        lambda inv: _break(inv, rules.BUCKET, "spark-storage-bucket", _set(["options", "protect"], False)),
        "aws:s3/bucket:Bucket::spark-storage-bucket: spark-storage-bucket: a prod bucket must be protected (protect=True)",
    ),
    "imdsv2-hop-limit-1": (
        lambda inv: _break(
            inv,
            rules.NODE_CLASS,
            "karpenter-class-nvme",
            _set(["inputs", "spec", "metadataOptions", "httpPutResponseHopLimit"], 2),
        ),
        "kubernetes:karpenter.k8s.aws/v1:EC2NodeClass::karpenter-class-nvme: karpenter-class-nvme: metadataOptions.httpPutResponseHopLimit is 2",
    ),
    "nodepool-limits": (
        lambda inv: _break(
            inv, rules.NODE_POOL, "karpenter-pool-spark-executor", _set(["inputs", "spec", "limits"], {"cpu": "4000"})
        ),
        "kubernetes:karpenter.sh/v1:NodePool::karpenter-pool-spark-executor: karpenter-pool-spark-executor: spec.limits has no memory",
    ),
    "drivers-never-on-spot": (
        lambda inv: _break(inv, rules.NODE_POOL, "karpenter-pool-spark-driver", _add_spot),
        "kubernetes:karpenter.sh/v1:NodePool::karpenter-pool-spark-driver: karpenter-pool-spark-driver: the driver pool must require",
    ),
    "no-plaintext-secrets-in-helm-values": (
        lambda inv: _break(
            inv,
            rules.HELM_RELEASE,
            "observability-kube-prometheus-stack",
            _set(["inputs", "values", "grafana", "adminPassword"], SECRET_PLACEHOLDER),
        ),
        "kubernetes:helm.sh/v3:Release::observability-kube-prometheus-stack: observability-kube-prometheus-stack: values.grafana.adminPassword holds",
    ),
}


def test_a_variant_for_every_policy():
    assert set(VARIANTS) == {rule.name for rule in RULES}


@pytest.mark.parametrize("policy", list(VARIANTS))
def test_a_plan_breaking_one_policy_fails_with_its_message(policy, prod, tmp_path, capsys):
    known = {r.name for r in rules.RULES}
    assert policy in known
    breaker, expected = VARIANTS[policy]
    path = tmp_path / "inventory.json"
    path.write_text(json.dumps(breaker(inventory_of(prod.plan))))
    violations = check_inventory(path)
    assert [v.policy for v in violations] == [policy]
    lines = report(violations)
    assert lines[0].startswith(f"policy {policy}: {expected}")
    assert lines[-1] == "8/9 policies pass (1 violation)"
    assert cli._policy(path) == 1
    assert capsys.readouterr().err.splitlines() == lines


def test_the_pull_request_workflows_run_the_policies():
    for workflow in ("offline-plan.yml", "preview.yml", "pulumi-up.yml"):
        text = (PROJECT_ROOT / ".github" / "workflows" / workflow).read_text()
        assert "--policy" in text, workflow
    for workflow in ("preview.yml", "pulumi-up.yml"):
        assert "policyPacks: policy\n" in (PROJECT_ROOT / ".github" / "workflows" / workflow).read_text(), workflow


def test_readme_lists_every_policy():
    readme = (PROJECT_ROOT / "README.md").read_text()
    for rule in RULES:
        assert f"`{rule.name}`" in readme, rule.name
