"""The guardrails as Pulumi policies (pulumi-policy), for the policy pack in `policy/`.

Each rule becomes a ResourceValidationPolicy when it judges one resource at a time, or a
StackValidationPolicy when it relates resources (a bucket and its public access block). Values a
preview cannot know reach the rules as UNKNOWN instead of stopping the policy.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyPack,
    PolicyResource,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UnknownValueError

from sparkeks.policy.rules import RULES, UNKNOWN, Resource, Rule

PACK_NAME = "spark-on-eks-guardrails"


def plain(value: Any) -> Any:
    """Plain dicts and lists out of pulumi-policy's property proxies, unknowns as UNKNOWN."""
    if isinstance(value, Mapping):
        out = {}
        for key in value:
            try:
                out[key] = plain(value[key])
            except UnknownValueError:
                out[key] = UNKNOWN
        return out
    if isinstance(value, Sequence) and not isinstance(value, (str, bytes)):
        items = []
        for index in range(len(value)):
            try:
                items.append(plain(value[index]))
            except UnknownValueError:
                items.append(UNKNOWN)
        return items
    if isinstance(value, float) and value.is_integer():
        return int(value)  # protobuf carries every number as a float: hop limit 1 arrives as 1.0
    return value


def _provider_inputs(provider: Any) -> Mapping[str, Any]:
    return plain(provider.props) if provider is not None else {}


def from_args(args: ResourceValidationArgs) -> Resource:
    return Resource(
        key=args.urn,
        type=args.resource_type,
        name=args.name,
        inputs=plain(args.props),
        protect=bool(args.opts.protect),
        provider_inputs=_provider_inputs(args.provider),
    )


def from_policy_resource(resource: PolicyResource) -> Resource:
    # A bucket setting names its bucket in its `bucket` input: that input's dependencies say which one.
    through_bucket = resource.property_dependencies.get("bucket")
    depends = {d.urn for d in (through_bucket if through_bucket is not None else resource.dependencies)}
    return Resource(
        key=resource.urn,
        type=resource.resource_type,
        name=resource.name,
        inputs=plain(resource.props),
        protect=bool(resource.opts.protect),
        provider_inputs=_provider_inputs(resource.provider),
        depends_on=frozenset(depends),
    )


def policy_of(rule: Rule, enforcement: EnforcementLevel = EnforcementLevel.MANDATORY):
    if rule.types:

        def validate_resource(args: ResourceValidationArgs, report_violation) -> None:
            if args.resource_type not in rule.types:
                return
            for _, message in rule.check([from_args(args)]):
                report_violation(message, None)

        return ResourceValidationPolicy(rule.name, rule.description, validate_resource, enforcement_level=enforcement)

    def validate_stack(args: StackValidationArgs, report_violation) -> None:
        for resource, message in rule.check([from_policy_resource(r) for r in args.resources]):
            report_violation(message, resource.key)

    return StackValidationPolicy(rule.name, rule.description, validate_stack, enforcement_level=enforcement)


def policies() -> list:
    return [policy_of(rule) for rule in RULES]


def serve() -> None:
    """Start the pack (the Pulumi CLI runs this through policy/__main__.py)."""
    PolicyPack(PACK_NAME, policies(), enforcement_level=EnforcementLevel.MANDATORY)
