"""Spark settings the platform relies on elsewhere (node pool timing, sizing)."""

from __future__ import annotations

# spark.dynamicAllocation.executorIdleTimeout: how long an idle executor lives before Spark releases it.
# Node pools must wait longer than this before consolidating, or they fight Spark's own scale-in.
EXECUTOR_IDLE_TIMEOUT_SECONDS = 60
