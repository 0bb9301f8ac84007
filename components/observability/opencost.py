"""OpenCost's Helm values: the static base plus the cluster id and the price table's custom pricing."""

from __future__ import annotations

from typing import Any

from components.helm import base_values, merge_values

RELEASE = "opencost"


def opencost_values(*, cluster_name: str, cost_model: dict[str, str]) -> dict[str, Any]:
    return merge_values(
        base_values("opencost"),
        {"opencost": {"exporter": {"defaultClusterId": cluster_name}, "customPricing": {"costModel": cost_model}}},
    )
