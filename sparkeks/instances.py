"""EC2 instance families the Spark pools may use: CPU architecture, memory per vCPU, local NVMe.

Used to validate stack config (a family must exist, match the pool's architecture, and have instance
store for the NVMe pool) and to size Spark executors against the nodes a pool can launch.
"""

from __future__ import annotations

from dataclasses import dataclass

# vCPUs by size name (the same across the families below).
SIZE_VCPUS = {
    "large": 2,
    "xlarge": 4,
    "2xlarge": 8,
    "4xlarge": 16,
    "8xlarge": 32,
    "12xlarge": 48,
    "16xlarge": 64,
    "24xlarge": 96,
    "32xlarge": 128,
    "48xlarge": 192,
}


@dataclass(frozen=True)
class Family:
    name: str
    architecture: str  # amd64 | arm64
    memory_per_vcpu_gib: int
    local_nvme: bool
    max_size: str

    @property
    def category(self) -> str:
        return self.name[0]

    @property
    def generation(self) -> int:
        return int("".join(c for c in self.name if c.isdigit())[:1])

    def vcpu_sizes(self) -> list[int]:
        limit = SIZE_VCPUS[self.max_size]
        return [v for v in SIZE_VCPUS.values() if v <= limit]

    def instance_types(self, vcpus: list[int]) -> list[str]:
        """Types of this family with these vCPU counts that exist (Karpenter lists figures for them):
        not every family has every size (c7i has no 32xlarge)."""
        from sparkeks.nodes import exists

        names = {v: n for n, v in SIZE_VCPUS.items()}
        candidates = [f"{self.name}.{names[v]}" for v in vcpus if v in self.vcpu_sizes()]
        return [t for t in candidates if exists(t)]


def _families() -> dict[str, Family]:
    rows = [
        # name, arch, GiB per vCPU, local NVMe, largest size
        ("c6i", "amd64", 2, False, "32xlarge"),
        ("c6id", "amd64", 2, True, "32xlarge"),
        ("c6in", "amd64", 2, False, "32xlarge"),
        ("c6a", "amd64", 2, False, "48xlarge"),
        ("c7i", "amd64", 2, False, "48xlarge"),
        ("c7a", "amd64", 2, False, "48xlarge"),
        ("m6i", "amd64", 4, False, "32xlarge"),
        ("m6id", "amd64", 4, True, "32xlarge"),
        ("m6in", "amd64", 4, False, "32xlarge"),
        ("m6a", "amd64", 4, False, "48xlarge"),
        ("m7i", "amd64", 4, False, "48xlarge"),
        ("m7a", "amd64", 4, False, "48xlarge"),
        ("r6i", "amd64", 8, False, "32xlarge"),
        ("r6id", "amd64", 8, True, "32xlarge"),
        ("r6in", "amd64", 8, False, "32xlarge"),
        ("r6a", "amd64", 8, False, "48xlarge"),
        ("r7i", "amd64", 8, False, "48xlarge"),
        ("r7a", "amd64", 8, False, "48xlarge"),
        ("i4i", "amd64", 8, True, "32xlarge"),
        ("c6g", "arm64", 2, False, "16xlarge"),
        ("c6gd", "arm64", 2, True, "16xlarge"),
        ("c6gn", "arm64", 2, False, "16xlarge"),
        ("c7g", "arm64", 2, False, "16xlarge"),
        ("c7gd", "arm64", 2, True, "16xlarge"),
        ("c8g", "arm64", 2, False, "48xlarge"),
        ("m6g", "arm64", 4, False, "16xlarge"),
        ("m6gd", "arm64", 4, True, "16xlarge"),
        ("m7g", "arm64", 4, False, "16xlarge"),
        ("m7gd", "arm64", 4, True, "16xlarge"),
        ("m8g", "arm64", 4, False, "48xlarge"),
        ("r6g", "arm64", 8, False, "16xlarge"),
        ("r6gd", "arm64", 8, True, "16xlarge"),
        ("r7g", "arm64", 8, False, "16xlarge"),
        ("r7gd", "arm64", 8, True, "16xlarge"),
        ("r8g", "arm64", 8, False, "48xlarge"),
        ("i4g", "arm64", 8, True, "16xlarge"),
    ]
    return {name: Family(name, arch, mem, nvme, size) for name, arch, mem, nvme, size in rows}


FAMILIES = _families()
