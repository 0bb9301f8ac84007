"""Celeborn's RPC authentication: an application's shuffle data answers only to that application.

How Celeborn 0.7.0 does it (CelebornConf, Master, Worker, LifecycleManager, the SASL registration
handler): the servers honour `celeborn.auth.enabled` only with `celeborn.internal.port.enabled`, and refuse
to start with the first alone. The application's LifecycleManager makes a random secret and registers it
with the leading master (first come: an application id cannot be registered twice); the masters keep it in
their Raft log, so a new leader still knows it. When the master assigns workers to the application it
hands them the secret on their internal port. From then on every connection to the masters' and workers'
client ports (RPC, push, fetch) authenticates with SASL DIGEST-MD5 as its application, and the servers
refuse calls about any other application's shuffles. Executors get the secret from their driver.

What it does not cover, so the NetworkPolicies must (components/celeborn/manifests.py): the internal ports,
the Raft port and the workers' replicate port take no authentication (a pod reaching the masters'
internal port could register as a worker and be handed secrets and data), and the driver answers any pod
asking for its secret. The platform's policies keep the first three to Celeborn's own pods and a driver
to its team's namespace. Authentication only, no encryption (SASL QOP `auth`; the secret travels in the
clear once, at registration): TLS is another feature.
"""

from __future__ import annotations

from typing import Any

from sparkeks.config.shuffle import RpcAuth
from sparkeks.spark import celeborn


def rpc_auth_conf(rpc_auth: RpcAuth) -> dict[str, Any]:
    """The celeborn-defaults.conf settings of RPC authentication (`spark.shuffle.celeborn.rpcAuth`)."""
    if rpc_auth == "disabled":
        return {}
    return {
        "celeborn.auth.enabled": True,
        "celeborn.internal.port.enabled": True,
        # An HA master binds the internal port of its own node id; the chart's internal endpoints name no
        # port, so workers dial Celeborn's default, which MASTER_INTERNAL_PORT is.
        **{f"celeborn.master.ha.node.{i}.internal.port": celeborn.MASTER_INTERNAL_PORT for i in range(celeborn.MASTERS)},
        # Fixed: graceful shutdown refuses upstream's random 0, and the policies name it.
        "celeborn.worker.internal.port": celeborn.WORKER_PORTS["internal"],
    }
