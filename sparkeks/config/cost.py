"""Stack config: assumptions of the cost estimates and of OpenCost (`cost.*`)."""

from __future__ import annotations

from pydantic import Field, field_validator

from sparkeks.config.base import ConfigModel, problem
from sparkeks.instances import FAMILIES

DEFAULT_SPOT_DISCOUNT = 0.5
"""A planning assumption, not a price: spot at half the on-demand price. Spot prices move by the hour and
by zone; set `cost.spotDiscount` per family from your own Spot price history for sharper estimates."""


class CostConfig(ConfigModel):
    spot_discount: dict[str, float] = Field(
        default_factory=dict,
        description="Assumed spot discount off on-demand per instance family, e.g. `{m7i: 0.6}` (0.6 = 60% cheaper); families not listed use `defaultSpotDiscount`.",
    )
    default_spot_discount: float = Field(
        DEFAULT_SPOT_DISCOUNT, ge=0, lt=1, description="Assumed spot discount off on-demand for families not in `spotDiscount` (an assumption, not a price)."
    )
    opencost: bool = Field(True, description="Run OpenCost (cost per namespace and Spark application) with the price table's assumptions; needs observability.")

    @field_validator("spot_discount")
    @classmethod
    def _discounts(cls, values: dict[str, float]) -> dict[str, float]:
        for family, discount in values.items():
            if family not in FAMILIES:
                raise problem(f"unknown instance family {family!r}; known: {', '.join(sorted(FAMILIES))}")
            if isinstance(discount, bool) or not isinstance(discount, (int, float)) or not 0 <= discount < 1:
                raise problem(f"{family}: {discount!r} is not a discount between 0 and 1 (0.6 = 60% cheaper than on-demand)")
        return values

    def spot_factor(self, family: str) -> float:
        """Spot price as a share of on-demand for a family."""
        return 1 - self.spot_discount.get(family, self.default_spot_discount)
