"""Shared pieces of the stack config model: the strict base model, the error helper, common value types."""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticCustomError

from sparkeks.project import PROJECT  # noqa: F401 - the project name (Pulumi.yaml), defined where projects are found

_PRIVATE_RANGES = tuple(
    ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10")
)
_INSTANCE_TYPE = re.compile(r"^(?P<family>[a-z]+)(?P<generation>\d+)(?P<attributes>[a-z-]*)\.(?P<size>[a-z0-9]+)$")
_IAM_PRINCIPAL = re.compile(r"^arn:aws(-cn|-us-gov)?:iam::\d{12}:(role|user)/[\w+=,.@/-]{1,512}$")
_CLUSTER_NAME = re.compile(r"^[a-z][a-z0-9-]{0,30}[a-z0-9]$")
# Prefixes AWS, EKS and Karpenter reserve for the tags they set on nodes themselves.
_RESERVED_TAG_PREFIXES = ("aws:", "eks:", "kubernetes.io/", "karpenter.sh/", "karpenter.k8s.aws/")
_K8S_MINOR = re.compile(r"^1\.\d{2}$")


def problem(reason: str, *, key: str | None = None, value: Any = None) -> PydanticCustomError:
    """A validation error that names the exact key below the model that raised it."""
    ctx: dict[str, Any] = {"reason": reason}
    if key is not None:
        ctx["key"] = key
        ctx["value"] = value
    return PydanticCustomError("stack_config", "{reason}", ctx)


def _ipv4_cidr(value: str) -> str:
    try:
        ipaddress.IPv4Network(value, strict=True)
    except ValueError:
        raise problem("must be an IPv4 CIDR with its host bits zero, like 10.0.0.0/16") from None
    return value


def _iam_principal(value: str) -> str:
    if ":sts::" in value and "assumed-role" in value:
        raise problem("is an STS session ARN; use the IAM role's ARN (arn:aws:iam::<account>:role/<name>)")
    if not _IAM_PRINCIPAL.match(value):
        raise problem("must be an IAM role or user ARN, like arn:aws:iam::123456789012:role/platform-admin")
    return value


def instance_architecture(instance_type: str) -> str:
    """arm64 for Graviton types (a `g` after the generation digit: m7g, c7gn, r8gd), else amd64."""
    match = _INSTANCE_TYPE.match(instance_type)
    if match is None:
        raise ValueError(instance_type)
    return "arm64" if "g" in match["attributes"] else "amd64"


def _instance_type(value: str) -> str:
    if not _INSTANCE_TYPE.match(value):
        raise problem("must be an EC2 instance type like m7i.large (family, generation, attributes, size)")
    return value


Cidr = Annotated[str, AfterValidator(_ipv4_cidr)]
IamPrincipal = Annotated[str, AfterValidator(_iam_principal)]
InstanceType = Annotated[str, AfterValidator(_instance_type)]


def _no_duplicates(values: list[Any]) -> list[Any]:
    seen = set()
    for value in values:
        if value in seen:
            raise problem(f"lists {value!r} twice; each entry must be unique")
        seen.add(value)
    return values


class ConfigModel(BaseModel):
    """Strict, closed models: unknown keys (typos) and wrongly typed values are errors."""

    model_config = ConfigDict(
        extra="forbid",
        alias_generator=to_camel,
        populate_by_name=True,
        frozen=True,
        strict=True,
    )


_DURATION = re.compile(r"^([0-9]+(s|m|h))+$")
_QUANTITY = re.compile(r"^([0-9]+)(Ki|Mi|Gi|Ti)$")
_BUDGET_NODES = re.compile(r"^((100|[0-9]{1,2})%|[0-9]+)$")
_CRON = re.compile(r"^(@(annually|yearly|monthly|weekly|daily|midnight|hourly)|\S+\s\S+\s\S+\s\S+\s\S+)$")


def duration_seconds(value: str) -> int:
    """`1h30m` -> 5400 (the Kubernetes duration subset Karpenter accepts)."""
    units = {"s": 1, "m": 60, "h": 3600}
    return sum(int(n) * units[u] for n, u in re.findall(r"([0-9]+)([smh])", value))


def _duration(value: str) -> str:
    if not _DURATION.match(value):
        raise problem("must be a duration like 90s, 10m or 1h30m")
    return value


def _duration_or_never(value: str) -> str:
    return value if value == "Never" else _duration(value)


_LOOSE_QUANTITY = re.compile(r"^\s*([0-9]+)\s*([kmgtKMGT])(i|b|ib|B|iB)?\s*$")


def _memory_quantity(value: str) -> str:
    match = _QUANTITY.match(value)
    if not match or int(match[1]) <= 0:
        loose = _LOOSE_QUANTITY.match(value)
        # 64G is 64 * 10^9 bytes to Kubernetes, 64g and 64GB mean GiB to Spark and YARN users: say which.
        hint = f"; did you mean {int(loose[1])}{loose[2].upper()}i?" if loose and int(loose[1]) > 0 else ""
        raise problem(f"must be a positive memory quantity like 4000Gi (Ki, Mi, Gi or Ti){hint}")
    return value


_CPU = re.compile(r"^(?:(?P<milli>[0-9]+)m|(?P<cores>[0-9]+(?:\.[0-9]{1,3})?))$")


def cpu_milli(quantity: str) -> int:
    """Kubernetes CPU quantity (`500m`, `2`, `1.5`) in millicores."""
    match = _CPU.match(quantity)
    assert match is not None, quantity
    return int(match["milli"]) if match["milli"] else round(float(match["cores"]) * 1000)


def _cpu_quantity(value: Any) -> Any:
    # YAML reads `cpu: 2` and `cpu: 0.5` as numbers; the quantity is unambiguous, so take it as written.
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        return value  # the type check reports it
    if not _CPU.match(value) or cpu_milli(value) <= 0:
        raise problem("must be a positive Kubernetes CPU quantity like 500m, 2 or 1.5 (at most 3 decimals)")
    if cpu_milli(value) > 1_000_000:
        raise problem("is more than 1000 CPUs for one container")
    return value


Duration = Annotated[str, AfterValidator(_duration)]
CpuQuantity = Annotated[str, BeforeValidator(_cpu_quantity)]
DurationOrNever = Annotated[str, AfterValidator(_duration_or_never)]
MemoryQuantity = Annotated[str, AfterValidator(_memory_quantity)]




_S3_URI = re.compile(r"^s3://(?P<bucket>[a-z0-9][a-z0-9.-]{1,61}[a-z0-9])/(?P<prefix>([A-Za-z0-9!_.'()-]+/)*)$")
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")
# Prefixes and suffixes S3 keeps for its own names (access point aliases, directory and table buckets).
_BUCKET_RESERVED_PREFIXES = ("xn-", "sthree-", "amzn-s3-demo-")
_BUCKET_RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")


def bucket_name_problem(value: str) -> str | None:
    """Why S3 would refuse `value` as a general purpose bucket name, or None."""
    if not _BUCKET.match(value) or "--" in value:
        return "must be an S3 bucket name: 3-63 lowercase letters, digits and hyphens"
    for prefix in _BUCKET_RESERVED_PREFIXES:
        if value.startswith(prefix):
            return f"starts with {prefix}, which S3 reserves"
    for suffix in _BUCKET_RESERVED_SUFFIXES:
        if value.endswith(suffix):
            return f"ends with {suffix}, which S3 reserves"
    return None


def _s3_uri(value: str) -> str:
    if "*" in value or not _S3_URI.match(value):
        raise problem("must be an S3 location like s3://bucket/path/ (ending in /, no wildcards)")
    return value


S3Uri = Annotated[str, AfterValidator(_s3_uri)]


def parse_s3_uri(uri: str) -> tuple[str, str]:
    """`s3://bucket/a/b/` -> ("bucket", "a/b/")."""
    match = _S3_URI.match(uri)
    assert match is not None, uri
    return match["bucket"], match["prefix"]


def memory_mib(quantity: str) -> int:
    """Kubernetes binary quantity (`4Gi`) in MiB."""
    match = _QUANTITY.match(quantity)
    assert match is not None, quantity
    return int(match[1]) * {"Ki": 1 / 1024, "Mi": 1, "Gi": 1024, "Ti": 1024 * 1024}[match[2]]

