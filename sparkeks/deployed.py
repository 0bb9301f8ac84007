"""What a stack deploys, and so which project files it needs.

The composition root (`__main__.py`) builds a component when its switch here is on, and the up-front check
of the project (`sparkeks.project.check_program_files`) requires the files of exactly those components: one
set of facts, so a stack without, say, Celeborn needs no `helm-values/celeborn.yaml` and a stack with it
cannot start deploying without one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sparkeks.config.model import StackConfig


def observability(config: StackConfig) -> bool:
    """Prometheus, Grafana, Loki and Fluent Bit, with the dashboards and the DaemonSets they put on every node."""
    return config.observability.enabled


def spark_platform(config: StackConfig) -> bool:
    """The Spark Operator and the teams' namespaces: nothing to run without a team."""
    return bool(config.teams)


def yunikorn(config: StackConfig) -> bool:
    return spark_platform(config) and config.spark.batch_scheduler == "yunikorn"


def history_servers(config: StackConfig) -> bool:
    """One per team, running the platform image its Spark line pins."""
    return spark_platform(config) and config.history_server.enabled


def celeborn(config: StackConfig) -> bool:
    return config.spark.shuffle.service == "celeborn"


def opencost_model(config: StackConfig) -> dict[str, str] | None:
    """OpenCost's price model, when the stack runs OpenCost (it needs the monitoring stack and a region the
    price table holds), else None."""
    if not (observability(config) and config.cost.opencost):
        return None
    from sparkeks.cost.opencost import cost_model

    return cost_model(config)


def _opencost(config: StackConfig) -> bool:
    return opencost_model(config) is not None


def _always(config: StackConfig) -> bool:
    return True


# Each chart whose static base values the project holds (helm-values/<chart>.yaml), and when it is deployed.
CHARTS: dict[str, Callable[[StackConfig], bool]] = {
    "celeborn": celeborn,
    "fluent-bit": observability,
    "karpenter": _always,
    "kube-prometheus-stack": observability,
    "loki": observability,
    "opencost": _opencost,
    "spark-operator": spark_platform,
    "yunikorn": yunikorn,
}
# The other files the program reads from the project (a trailing / is a folder), and when.
DATA: dict[str, Callable[[StackConfig], bool]] = {"dashboards/": observability, "images/pins.json": history_servers}


def _celeborn_chart() -> str:
    from sparkeks.versions import CELEBORN_CHART_DIR

    return f"{CELEBORN_CHART_DIR}/Chart.yaml"


def program_files(config: StackConfig) -> list[str]:
    """The project files the program reads for this stack, sorted."""
    charts = [f"helm-values/{chart}.yaml" for chart, deployed in CHARTS.items() if deployed(config)]
    return sorted([*charts, *(path for path, needed in DATA.items() if needed(config))])


def deployment_files(config: StackConfig) -> dict[str, str]:
    """Files in the project that a provider, not the program, reads when this stack is deployed (the offline
    plan needs none of them) -> how to produce each."""
    if not celeborn(config):
        return {}
    how = "the pinned Celeborn chart: run `make celeborn-chart`, or `sparkeks celeborn-chart` in a project without the Makefile"
    return {_celeborn_chart(): how}
