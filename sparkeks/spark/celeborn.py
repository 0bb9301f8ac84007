"""The Celeborn side of a Spark job: where the service answers, and the client settings per Spark line.

Pure. Facts from Apache Celeborn 0.7.0's deploy guide ("Deploy Spark client", "Spark Configuration"),
its rolling-upgrade guide (client retries while a worker restarts), its client configuration reference
and its Spark client source (`SparkShuffleManager` falls back to Spark's own sort shuffle under the
AUTO fallback policy, and logs that dynamic allocation may then lose blocks).
"""

from __future__ import annotations

from sparkeks.versions import SPARK_RUNTIMES

# The Helm release and namespace of the service. The chart names its pods and Services after the release
# (`<release>-master-<i>` behind the headless `<release>-master-svc`).
NAMESPACE = "celeborn"
RELEASE = "celeborn"
MASTERS = 3
MASTER_PORT = 9097
MASTER_HTTP_PORT = 9098
MASTER_RAFT_PORT = 9872
MASTER_INTERNAL_PORT = 8097
# Workers bind fixed ports (upstream's default 0 picks a random one): NetworkPolicies can name them, and a
# restarted worker serves its committed files on the same fetch port (the rolling-upgrade guide's advice).
WORKER_PORTS = {"rpc": 9091, "fetch": 9092, "push": 9093, "replicate": 9094, "internal": 9095}
WORKER_HTTP_PORT = 9096
CLUSTER_DOMAIN = "cluster.local"

SHUFFLE_MANAGER = "org.apache.spark.shuffle.celeborn.SparkShuffleManager"
# Tells Spark the shuffle lives outside the executors (ShuffleDriverComponents#supportsReliableStorage,
# Spark 3.5+), so dynamic allocation may release executors without shuffle tracking.
SHUFFLE_DATA_IO = "org.apache.spark.shuffle.celeborn.CelebornShuffleDataIO"
DATA_IO_SINCE = (3, 5)

# Platform defaults that have no meaning, or the wrong one, once shuffle lives on Celeborn: there is no
# shuffle file on an executor to migrate or to copy to S3.
REMOVED_WITH_CELEBORN = (
    "spark.storage.decommission.fallbackStorage.path",
    "spark.storage.decommission.fallbackStorage.cleanUp",
)


def master_endpoints() -> str:
    """`spark.celeborn.master.endpoints`: every master by its stable StatefulSet DNS name."""
    service = f"{RELEASE}-master-svc.{NAMESPACE}.svc.{CLUSTER_DOMAIN}"
    return ",".join(f"{RELEASE}-master-{i}.{service}:{MASTER_PORT}" for i in range(MASTERS))


def supported_lines() -> list[str]:
    """Spark lines whose platform image carries a Celeborn client of the pinned release."""
    return [line for line, runtime in SPARK_RUNTIMES.items() if runtime.celeborn_client]


def _version(line: str) -> tuple[int, int]:
    major, minor = line.split(".")[:2]
    return int(major), int(minor)


def celeborn_spark_conf(line: str, *, replicate: bool, authenticate: bool) -> dict[str, str]:
    """The client settings a job of this Spark line gets with `shuffle: celeborn` (`authenticate`: the
    stack's `spark.shuffle.celeborn.rpcAuth` is `sasl`)."""
    if line not in supported_lines():
        raise ValueError(f"Celeborn has no client for Spark {line}")
    if _version(line) < DATA_IO_SINCE:
        raise ValueError(f"Spark {line} predates the shuffle data IO plugin dynamic allocation needs with Celeborn")
    return {
        "spark.shuffle.manager": SHUFFLE_MANAGER,
        "spark.celeborn.master.endpoints": master_endpoints(),
        # No external shuffle service on Kubernetes; Celeborn replaces it.
        "spark.shuffle.service.enabled": "false",
        # Every block pushed to two workers: a worker lost while a job runs costs no stage retry.
        "spark.celeborn.client.push.replicate.enabled": str(replicate).lower(),
        # Dynamic allocation without shuffle tracking: executors holding no shuffle data go when idle.
        "spark.shuffle.sort.io.plugin.class": SHUFFLE_DATA_IO,
        "spark.dynamicAllocation.shuffleTracking.enabled": "false",
        # AUTO would silently fall back to executor-local shuffle when Celeborn is short of workers, and
        # dynamic allocation (now without shuffle tracking) would then drop executors holding that data.
        # A job that asked for Celeborn uses it or fails at the shuffle with Celeborn's reason.
        "spark.celeborn.client.spark.shuffle.fallback.policy": "NEVER",
        # Executors still decommission gracefully and hand over cached RDD blocks; shuffle blocks are
        # not theirs to migrate.
        "spark.storage.decommission.shuffleBlocks.enabled": "false",
        # Upstream: AQE's local shuffle reader reads executor-local files; off for better reads from Celeborn.
        "spark.sql.adaptive.localShuffleReader.enabled": "false",
        # A worker restarting in a rolling update serves its committed files again after it is back.
        "spark.celeborn.client.fetch.maxRetriesForEachReplica": "5",
        "spark.celeborn.data.io.retryWait": "10s",
        # The LifecycleManager registers the application under a secret it makes and every connection
        # authenticates with it (components/celeborn/rpc_auth.py); the servers refuse a client without it.
        **({"spark.celeborn.auth.enabled": "true"} if authenticate else {}),
    }


def celeborn_owned_keys() -> frozenset[str]:
    """Settings a job with `shuffle: celeborn` may not override."""
    line = supported_lines()[0]
    return frozenset(celeborn_spark_conf(line, replicate=True, authenticate=True)) | frozenset(REMOVED_WITH_CELEBORN)
