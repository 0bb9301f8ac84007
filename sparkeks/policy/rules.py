"""The platform's guardrails as pure functions over resources (type, inputs, options).

One implementation, two runners: the Pulumi policy pack (`policy/`, on every `pulumi preview`/`up`) and
the offline check (`python -m sparkeks plan <stack> --policy`, over the plan's inventory). Each runner
turns what it has into `Resource` values; the rules never see where they came from.

Values a preview cannot know yet arrive as `UNKNOWN`: a rule never reports a violation on an unknown
value (the update, where it is known, is checked again).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sparkeks.placement import POOL_LABEL, POOL_NAMES


class _Unknown:
    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN: Any = _Unknown()

ENVIRONMENT_TAG = "spark-on-eks/environment"
PROTECTED_ENVIRONMENTS = ("prod",)
DRIVER_POOL = POOL_NAMES["driver"]
CAPACITY_TYPE = "karpenter.sh/capacity-type"

BUCKET = "aws:s3/bucket:Bucket"
BUCKET_V2 = "aws:s3/bucketV2:BucketV2"
PUBLIC_ACCESS_BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
ENCRYPTION = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
ENCRYPTION_V2 = "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2"
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
NODE_CLASS = "kubernetes:karpenter.k8s.aws/v1:EC2NodeClass"
NODE_POOL = "kubernetes:karpenter.sh/v1:NodePool"
HELM_RELEASE = "kubernetes:helm.sh/v3:Release"
HELM_CHART = "kubernetes:helm.sh/v4:Chart"
# Every input holding an IAM policy document, by resource type.
POLICY_DOCUMENTS = {
    "aws:iam/policy:Policy": ("policy",),
    "aws:iam/rolePolicy:RolePolicy": ("policy",),
    "aws:iam/userPolicy:UserPolicy": ("policy",),
    "aws:iam/groupPolicy:GroupPolicy": ("policy",),
    "aws:iam/role:Role": ("assumeRolePolicy",),
    "aws:s3/bucketPolicy:BucketPolicy": ("policy",),
    "aws:sqs/queuePolicy:QueuePolicy": ("policy",),
}


@dataclass(frozen=True)
class Resource:
    key: str
    """How the runner names it (a URN, or `type::name` offline); violations point at it."""
    type: str
    name: str
    inputs: Mapping[str, Any]
    protect: bool = False
    provider_inputs: Mapping[str, Any] = field(default_factory=dict)
    depends_on: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Violation:
    policy: str
    key: str
    message: str


@dataclass(frozen=True)
class Rule:
    name: str
    description: str
    check: Callable[[list[Resource]], Iterable[tuple[Resource, str]]]
    types: tuple[str, ...] = ()
    """Resource types a per-resource rule looks at; empty for rules over the whole stack."""


def _get(value: Any, *path: str | int) -> Any:
    for step in path:
        if value is UNKNOWN:
            return UNKNOWN
        if isinstance(step, int):
            value = value[step] if isinstance(value, list) and step < len(value) else None
        else:
            value = value.get(step) if isinstance(value, Mapping) else None
    return value


def _json(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return None
    return value


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


# --- IAM -----------------------------------------------------------------------------------------


def _documents(resource: Resource) -> Iterable[tuple[str, Any]]:
    for key in POLICY_DOCUMENTS.get(resource.type, ()):
        yield key, _json(resource.inputs.get(key))
    if resource.type == "aws:iam/role:Role":
        for index, inline in enumerate(_listed(resource.inputs.get("inlinePolicies") or [])):
            yield f"inlinePolicies[{index}]", _json(_get(inline, "policy"))


def wildcard_actions(resources: list[Resource]) -> Iterable[tuple[Resource, str]]:
    for resource in resources:
        for where, document in _documents(resource):
            for index, statement in enumerate(_listed(_get(document, "Statement") or [])):
                if not isinstance(statement, Mapping) or statement.get("Effect") != "Allow":
                    continue  # a Deny may be as broad as it likes (TLS-only bucket policies deny s3:*)
                label = f"{where} statement {statement.get('Sid') or index}"
                if "NotAction" in statement:
                    yield resource, f"{resource.name}: {label} allows NotAction (every other action); list the actions it needs"
                for action in _listed(statement.get("Action") or []):
                    if isinstance(action, str) and "*" in action:
                        yield resource, f"{resource.name}: {label} allows wildcard action {action!r}; list the actions it needs"


# --- S3 ------------------------------------------------------------------------------------------


def _buckets(resources: list[Resource]) -> list[Resource]:
    return [r for r in resources if r.type in (BUCKET, BUCKET_V2)]


def _attached(bucket: Resource, companion: Resource) -> bool:
    """A bucket setting belongs to a bucket by name, or (in a preview, where a new bucket's id is not
    known yet) by the dependency its `bucket` input carries."""
    name = bucket.inputs.get("bucket")
    target = companion.inputs.get("bucket")
    if name not in (None, UNKNOWN) and target == name:
        return True
    return bucket.key in companion.depends_on


def _companions(bucket: Resource, resources: list[Resource], *types: str) -> list[Resource]:
    return [r for r in resources if r.type in types and _attached(bucket, r)]


def public_access_blocked(resources: list[Resource]) -> Iterable[tuple[Resource, str]]:
    flags = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
    for bucket in _buckets(resources):
        blocks = _companions(bucket, resources, PUBLIC_ACCESS_BLOCK)
        if not blocks:
            yield bucket, f"{bucket.name}: no BucketPublicAccessBlock; block all four kinds of public access"
        for block in blocks:
            off = [f for f in flags if block.inputs.get(f) not in (True, UNKNOWN)]
            if off:
                yield bucket, f"{bucket.name}: public access block {block.name} leaves {', '.join(off)} off; set all four to true"


def encrypted(resources: list[Resource]) -> Iterable[tuple[Resource, str]]:
    for bucket in _buckets(resources):
        configs = _companions(bucket, resources, ENCRYPTION, ENCRYPTION_V2)
        algorithms = [
            _get(rule, "applyServerSideEncryptionByDefault", "sseAlgorithm")
            for c in configs
            for rule in _listed(c.inputs.get("rules") or [])
        ]
        if not any(a in ("AES256", "aws:kms", "aws:kms:dsse", UNKNOWN) for a in algorithms):
            yield (
                bucket,
                f"{bucket.name}: no default server-side encryption; "
                "add a BucketServerSideEncryptionConfiguration (AES256 or aws:kms)",
            )


def _denies_plain_http(document: Any) -> bool:
    for statement in _listed(_get(document, "Statement") or []):
        if not isinstance(statement, Mapping) or statement.get("Effect") != "Deny":
            continue
        secure = _get(statement, "Condition", "Bool", "aws:SecureTransport")
        actions = _listed(statement.get("Action") or [])
        if str(secure).lower() == "false" and any(a in ("s3:*", "*") for a in actions):
            return True
    return False


def tls_only(resources: list[Resource]) -> Iterable[tuple[Resource, str]]:
    for bucket in _buckets(resources):
        policies = _companions(bucket, resources, BUCKET_POLICY)
        if any(p.inputs.get("policy") is UNKNOWN or _denies_plain_http(_json(p.inputs.get("policy"))) for p in policies):
            continue
        yield (
            bucket,
            f"{bucket.name}: no bucket policy denying s3:* when aws:SecureTransport is false; "
            "requests without TLS must be refused",
        )


def _environment(resource: Resource) -> str | None:
    own = _get(resource.inputs, "tags", ENVIRONMENT_TAG)
    if isinstance(own, str):
        return own
    default = _get(_json(resource.provider_inputs.get("defaultTags")), "tags", ENVIRONMENT_TAG)
    return default if isinstance(default, str) else None


def protected_in_prod(resources: list[Resource]) -> Iterable[tuple[Resource, str]]:
    for bucket in _buckets(resources):
        environment = _environment(bucket)
        if environment not in PROTECTED_ENVIRONMENTS:
            continue
        if not bucket.protect:
            yield bucket, f"{bucket.name}: a {environment} bucket must be protected (protect=True); its data outlives the stack"
        if bucket.inputs.get("forceDestroy") is True:
            yield bucket, f"{bucket.name}: a {environment} bucket must not be force-destroyed (forceDestroy=false)"


# --- nodes ---------------------------------------------------------------------------------------


def _metadata_options(resource: Resource) -> Any:
    if resource.type == LAUNCH_TEMPLATE:
        return resource.inputs.get("metadataOptions")
    return _get(resource.inputs, "spec", "metadataOptions")


def imdsv2_hop_limit(resources: list[Resource]) -> Iterable[tuple[Resource, str]]:
    for resource in resources:
        options = _metadata_options(resource)
        if options is UNKNOWN:
            continue
        tokens, hops = _get(options, "httpTokens"), _get(options, "httpPutResponseHopLimit")
        if tokens not in ("required", UNKNOWN):
            yield resource, f"{resource.name}: metadataOptions.httpTokens is {tokens!r}; IMDSv2 only: 'required'"
        if hops not in (1, UNKNOWN):
            yield (
                resource,
                f"{resource.name}: metadataOptions.httpPutResponseHopLimit is {hops!r}; 1 keeps pods off the node's credentials",
            )


def node_pool_limits(resources: list[Resource]) -> Iterable[tuple[Resource, str]]:
    for pool in resources:
        limits = _get(pool.inputs, "spec", "limits")
        if limits is UNKNOWN:
            continue
        missing = [k for k in ("cpu", "memory") if _get(limits, k) in (None, "")]
        if missing:
            yield pool, f"{pool.name}: spec.limits has no {' or '.join(missing)}; an unbounded pool can launch without end"


def drivers_on_demand(resources: list[Resource]) -> Iterable[tuple[Resource, str]]:
    for pool in resources:
        labels = _get(pool.inputs, "spec", "template", "metadata", "labels")
        if _get(labels, POOL_LABEL) != DRIVER_POOL:
            continue
        requirements = _listed(_get(pool.inputs, "spec", "template", "spec", "requirements") or [])
        capacity = [r for r in requirements if _get(r, "key") == CAPACITY_TYPE]
        allowed = {v for r in capacity if _get(r, "operator") == "In" for v in _listed(_get(r, "values") or [])}
        if UNKNOWN in allowed or any(_get(r, "values") is UNKNOWN for r in capacity):
            continue
        if not capacity or any(_get(r, "operator") != "In" for r in capacity) or allowed != {"on-demand"}:
            yield (
                pool,
                (
                    f"{pool.name}: the driver pool must require {CAPACITY_TYPE} In [on-demand]; "
                    "a reclaimed driver fails the whole application"
                ),
            )


# --- Helm values ---------------------------------------------------------------------------------

# Keys whose value is the secret itself (normalised: lowercase, no separators). Keys that name where a
# secret lives (existingSecret, passwordKey, secretName) are not among them.
_SECRET_KEYS = re.compile(
    r"(password|passwd|secretaccesskey|secretkey|clientsecret|apikey|apitoken|authtoken|bearertoken|token|webhookurl|privatekey)$"
)
_SECRET_VALUES = (
    (re.compile(r"https://hooks\.slack\.com/"), "a Slack webhook URL"),
    (re.compile(r"\bA(KIA|SIA)[0-9A-Z]{16}\b"), "an AWS access key id"),
    (re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"), "a private key"),
)
# What the offline plan puts where a Pulumi secret was (sparkeks.plan.runner.SECRET_PLACEHOLDER).
OFFLINE_SECRET = "offline-plan-secret-placeholder"


def _secrets_in(value: Any, path: str) -> Iterable[tuple[str, str]]:
    if isinstance(value, Mapping):
        for key, inner in value.items():
            child = f"{path}.{key}" if path else str(key)
            if isinstance(inner, str) and inner and _SECRET_KEYS.search(re.sub(r"[-_.]", "", str(key)).lower()):
                yield child, "a secret-named key with a literal value"
            else:
                yield from _secrets_in(inner, child)
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            yield from _secrets_in(inner, f"{path}[{index}]")
    elif isinstance(value, str):
        if OFFLINE_SECRET in value:
            yield path, "a value from Pulumi secret config"
        for pattern, what in _SECRET_VALUES:
            if pattern.search(value):
                yield path, what


def no_plaintext_helm_secrets(resources: list[Resource]) -> Iterable[tuple[Resource, str]]:
    for release in resources:
        for path, what in _secrets_in(release.inputs.get("values") or {}, ""):
            yield (
                release,
                (
                    f"{release.name}: values.{path} holds {what}; Helm stores values in plain text: "
                    "put the secret in a Kubernetes Secret from Pulumi secret config and reference it"
                ),
            )


RULES = (
    Rule(
        "no-wildcard-iam-actions",
        "IAM Allow statements list their actions: no '*' in an action and no NotAction.",
        wildcard_actions,
        tuple(POLICY_DOCUMENTS),
    ),
    Rule(
        "s3-public-access-blocked", "Every S3 bucket has a public access block with all four settings on.", public_access_blocked
    ),
    Rule("s3-encrypted", "Every S3 bucket has default server-side encryption.", encrypted),
    Rule("s3-tls-only", "Every S3 bucket's policy denies requests without TLS.", tls_only),
    Rule(
        "s3-protected-in-prod",
        "Production buckets are protected and never force-destroyed.",
        protected_in_prod,
        (BUCKET, BUCKET_V2),
    ),
    Rule(
        "imdsv2-hop-limit-1",
        "Every launch template and EC2NodeClass requires IMDSv2 tokens with a hop limit of 1.",
        imdsv2_hop_limit,
        (LAUNCH_TEMPLATE, NODE_CLASS),
    ),
    Rule("nodepool-limits", "Every Karpenter NodePool caps its CPU and memory.", node_pool_limits, (NODE_POOL,)),
    Rule("drivers-never-on-spot", "The Spark driver pool launches on-demand capacity only.", drivers_on_demand, (NODE_POOL,)),
    Rule(
        "no-plaintext-secrets-in-helm-values",
        "Helm values carry no passwords, tokens, keys or webhook URLs; charts reference Kubernetes Secrets.",
        no_plaintext_helm_secrets,
        (HELM_RELEASE, HELM_CHART),
    ),
)


def evaluate(resources: list[Resource], rules: Iterable[Rule] = RULES) -> list[Violation]:
    violations = []
    for rule in rules:
        scope = [r for r in resources if r.type in rule.types] if rule.types else resources
        violations += [Violation(rule.name, resource.key, message) for resource, message in rule.check(scope)]
    return violations
