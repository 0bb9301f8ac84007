"""Celeborn's REST API on the masters' and workers' HTTP ports: read-only unless the stack opens it.

What Celeborn 0.7.0 does (its CelebornConf and the server's AuthenticationFilter): once an HTTP auth scheme
is set for a role, every request to the API runs through a filter that refuses POST, PUT, DELETE and PATCH
from any caller not listed in `celeborn.<role>.http.auth.administers`, which is empty by default. Every
state-changing call of 0.7.0 (exclude a worker, worker events and exit, log levels, dynamic config, Raft,
unregistering shuffles, deleting applications) is a POST or a PUT, so all of them are refused, from inside
the cluster or out, whatever the CNI enforces; reads (GET) still answer.

Why no password: the only BASIC/BEARER provider Celeborn ships accepts any credential and takes the user
name from the request, so an administrator name would be a name anyone can claim, and a password from the
stack's secrets would be checked by nothing. The metrics servlets are handlers of their own, outside the
filter: Prometheus scrapes `/metrics/prometheus` without credentials.
"""

from __future__ import annotations

from sparkeks.config.shuffle import AdminApi

ROLES = ("master", "worker")
# Named for the filter to exist; with the shipped provider it asks for no credentials, only the
# administrator check on writes matters.
READ_ONLY_SCHEME = "BASIC"


def rest_api_conf(admin_api: AdminApi) -> dict[str, str]:
    """The celeborn-defaults.conf settings of the REST API (`spark.shuffle.celeborn.adminApi`)."""
    if admin_api == "open":
        return {}
    return {f"celeborn.{role}.http.auth.supportedSchemes": READ_ONLY_SCHEME for role in ROLES}
