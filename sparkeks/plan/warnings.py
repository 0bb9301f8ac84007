"""Warnings the plan summary leads with: choices a stack may make that leave people or pods unguarded."""

from __future__ import annotations

from typing import Any


def plan_warnings(config: Any) -> list[str]:
    """One line per warning for a validated StackConfig (none without one)."""
    if config is None:
        return []
    warnings = []
    if config.history_server.enabled and config.teams and not config.history_server_access:
        warnings.append(
            "History Servers have no login (`historyServer.access` is off): every pod in a team's namespace, and everyone "
            "who may port-forward to a server, reads its applications' SQL, plans and configs. On by default in prod."
        )
    if not config.network_policies:
        warnings.append(
            "NetworkPolicies are off (`spark.networkPolicies`): every pod reaches every service, other teams' History "
            "Servers and Loki included. On by default in prod."
        )
    if config.spark.shuffle.service == "celeborn":
        from sparkeks.config.shuffle import celeborn_warnings

        warnings.extend(celeborn_warnings(config.spark.shuffle.celeborn, network_policies=config.network_policies))
    return warnings
