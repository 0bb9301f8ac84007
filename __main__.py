"""spark-on-eks composition root: validate the stack config, build the components, export outputs."""

import pulumi
import pulumi_aws as aws

from components.celeborn.component import Celeborn, CelebornArgs
from components.cluster.component import Cluster, ClusterArgs, SystemNodeGroupArgs
from components.dr.component import DisasterRecovery, DisasterRecoveryArgs
from components.history_server.component import HistoryServer, HistoryServerArgs, history_login, secret_value
from components.karpenter.component import Karpenter, KarpenterArgs
from components.network.component import Network, NetworkArgs
from components.observability.component import Observability, ObservabilityArgs
from components.registry.component import ImageRegistry, ImageRegistryArgs
from components.registry.private import images_through_cache
from components.spark.component import SparkPlatform, SparkPlatformArgs
from components.storage.component import SparkStorage, SparkStorageArgs
from components.tagging import platform_tags
from sparkeks import deployed
from sparkeks.config.loader import ConfigError, load_stack_config, runtime_config, unavailable_zone_problems
from sparkeks.config.model import POOL_KEYS
from sparkeks.gc_policy import tune_for_program
from sparkeks.images import registry_host
from sparkeks.netpol import ClusterNetwork
from sparkeks.project import ProjectFileMissing, check_program_files
from sparkeks.teams.queues import queue_tree
from sparkeks.versions import SPARK_RUNTIMES

tune_for_program()  # the program run holds its whole resource graph: see sparkeks/gc_policy.py

stack = pulumi.get_stack()
try:
    config = load_stack_config(stack, *runtime_config())
    check_program_files(config)  # the project files the stack's components read (sparkeks/deployed.py)
except (ConfigError, ProjectFileMissing) as err:
    # Raised before any resource is registered; RunError prints the lines without a traceback.
    raise pulumi.RunError(str(err)) from err

cluster_name = config.resolved_cluster_name(stack)
tags = platform_tags(pulumi.get_project(), stack, config.environment, config.tags)

aws_provider = aws.Provider(
    "aws",
    region=config.region,
    allowed_account_ids=config.allowed_account_ids or None,
    default_tags=aws.ProviderDefaultTagsArgs(tags=tags),
)
with_aws = pulumi.ResourceOptions(providers=[aws_provider])

# Ask the account itself before creating anything: zone names are per account, ARNs per partition.
invoke = pulumi.InvokeOptions(provider=aws_provider)
account_id = aws.get_caller_identity(opts=invoke).account_id
partition = aws.get_partition(opts=invoke).partition
available_zones = aws.get_availability_zones(state="available", opts=invoke).names
zone_problems = unavailable_zone_problems(stack, config.network.zones, available_zones, config.region, account_id)
if zone_problems:
    raise pulumi.RunError("\n".join(zone_problems)) from ConfigError(zone_problems)

private_cluster = config.network.nat_strategy == "none"
if private_cluster:
    # No internet from the nodes: every chart's images come through this stack's ECR pull-through cache.
    pulumi.runtime.register_stack_transformation(images_through_cache(registry_host(account_id, config.region)))

network = Network(
    "network",
    NetworkArgs(
        cluster_name=cluster_name,
        region=config.region,
        cidr=config.network.cidr,
        zones=config.network.zones,
        nat_strategy=config.network.nat_strategy,
        private_subnet_prefix=config.network.private_subnet_prefix,
        public_subnet_prefix=config.network.public_subnet_prefix,
        interface_endpoints=config.network.interface_endpoints,
    ),
    opts=with_aws,
)

# Default-deny NetworkPolicies in every platform namespace name these ranges (sparkeks/netpol.py).
cluster_network = (
    ClusterNetwork(config.network.cidr, tuple(network.private_subnet_cidrs), config.cluster.service_cidr) if config.network_policies else None
)

nodes = config.cluster.system_node_group
cluster = Cluster(
    "cluster",
    ClusterArgs(
        name=cluster_name,
        region=config.region,
        partition=partition,
        kubernetes_version=config.cluster.kubernetes_version,
        support_type=config.cluster.support_type,
        vpc_id=network.vpc_id,
        private_subnet_ids=network.private_subnet_ids,
        service_cidr=config.cluster.service_cidr,
        system_node_group=SystemNodeGroupArgs(
            instance_types=nodes.instance_types,
            architecture=nodes.architecture,
            min_size=nodes.min_size,
            desired_size=nodes.desired_size,
            max_size=nodes.max_size,
            disk_size_gib=nodes.disk_size_gib,
        ),
        log_types=config.cluster.log_types,
        log_retention_days=config.cluster.log_retention_days,
        account_id=account_id,
        public_access_cidrs=config.cluster.public_access_cidrs,
        admin_principals=config.cluster.admin_principals,
        bootstrap_creator_admin=config.cluster.bootstrap_creator_admin,
        network_policies=config.network_policies,
        protect=config.protect_state,
        tags=tags,
    ),
    opts=with_aws,
)

# Karpenter comes first (on the system nodes): platform services run on its `platform` NodePool.
pools = config.karpenter.pools
karpenter = Karpenter(
    "karpenter",
    KarpenterArgs(
        cluster_name=cluster_name,
        cluster_endpoint=cluster.endpoint,
        region=config.region,
        partition=partition,
        account_id=account_id,
        provider=cluster.provider,
        pools=pools,
        pool_zones={key: config.pool_zones(pools.pool(key)) for key in POOL_KEYS},
        ami_alias=config.karpenter.ami_alias,
        node_volume_gib=config.karpenter.node_volume_gib,
        platform=config.karpenter.platform,
        platform_zones=config.platform_zones,
        isolated_vpc=private_cluster,
        capacity_scale=config.capacity_scale,
        node_tags=tags,
        cluster_network=cluster_network,
        depends_on=[cluster.system_nodes],
    ),
    opts=with_aws,
)

# Monitoring comes next: its release brings the CRDs of the monitors the other components create.
monitoring: list[pulumi.Resource] = []
if deployed.observability(config):
    secrets = config.grafana_admin_password, config.alertmanager_slack_webhook_url
    observability = Observability(
        "observability",
        ObservabilityArgs(
            config=config.observability,
            teams=[t.name for t in config.teams],
            cluster_name=cluster_name,
            region=config.region,
            partition=partition,
            account_id=account_id,
            provider=cluster.provider,
            grafana_admin_password=pulumi.Output.secret(secrets[0].get_secret_value()),
            slack_webhook_url=pulumi.Output.secret(secrets[1].get_secret_value()) if secrets[1] else None,
            protect=config.protect_state,
            cluster_network=cluster_network,
            force_destroy_buckets=config.spark.force_destroy_buckets,
            depends_on=[cluster.system_nodes, karpenter.platform_pool],
            opencost_cost_model=deployed.opencost_model(config),
        ),
        opts=with_aws,
    )
    monitoring.append(observability.monitoring_stack)

storage = SparkStorage(
    "spark-storage",
    SparkStorageArgs(
        bucket_name=config.resolved_bucket_name(stack, account_id),
        event_log_retention_days=config.spark.event_log_retention_days,
        protect=config.protect_state,
        force_destroy=config.spark.force_destroy_buckets,
    ),
    opts=with_aws,
)

# The platform's Spark images (one repository per line), pushed by the images workflow.
registry = ImageRegistry(
    "images",
    ImageRegistryArgs(
        cluster_name=cluster_name,
        spark_lines=list(SPARK_RUNTIMES),
        protect=config.protect_state,
        pull_through=(
            {"dockerHub": config.network.pull_through_credentials.docker_hub, "github": config.network.pull_through_credentials.github}
            if private_cluster
            else None
        ),
    ),
    opts=with_aws,
)

if config.dr is not None:
    dr = DisasterRecovery(
        "dr",
        DisasterRecoveryArgs(
            primary_stack=config.dr.primary_stack,
            partition=partition,
            event_log_bucket=storage.bucket_name,
            replicate_buckets=config.dr.replicate_buckets,
            copy_suffix=config.dr.copy_suffix,
            time_control=config.dr.replication_time_control,
            protect=config.protect_state,
        ),
        opts=with_aws,
    )
    pulumi.export("primaryStack", config.dr.primary_stack)
    pulumi.export("primaryBucket", dr.primary_bucket)

if deployed.spark_platform(config):
    spark = SparkPlatform(
        "spark",
        SparkPlatformArgs(
            teams=config.teams,
            queues=queue_tree(config),
            cluster_name=cluster_name,
            account_id=account_id,
            region=config.region,
            partition=partition,
            bucket_name=storage.bucket_name,
            provider=cluster.provider,
            batch_scheduler=config.spark.batch_scheduler,
            preemption_delay=config.spark.preemption_delay,
            network_policies=config.network_policies,
            operator_pod_monitor=config.observability.enabled,
            cluster_network=cluster_network,
            depends_on=[cluster.system_nodes, karpenter.platform_pool, *monitoring],
        ),
        opts=with_aws,
    )
    pulumi.export("teamRoleArns", spark.team_role_arns)

    if deployed.history_servers(config):
        history = HistoryServer(
            "history",
            HistoryServerArgs(
                teams=[t.name for t in config.teams],
                config=config.history_server,
                bucket_name=storage.bucket_name,
                region=config.region,
                partition=partition,
                cluster_name=cluster_name,
                account_id=account_id,
                event_log_retention_days=config.spark.event_log_retention_days,
                provider=cluster.provider,
                cluster_network=cluster_network,
                # People's login (on by default in prod); its secrets only from Pulumi secret config.
                login=history_login(config, registry_host(account_id, config.region) if private_cluster else None),
                team_groups={t.name: t.login_group for t in config.teams},
                client_secret=secret_value(config.history_server_client_secret),
                cookie_secret=secret_value(config.history_server_cookie_secret),
                monitoring=monitoring,
                depends_on=[cluster.system_nodes, karpenter.platform_pool],
            ),
            opts=with_aws,
        )
        pulumi.export("historyServers", history.services)

if deployed.celeborn(config):
    shuffle = config.spark.shuffle.celeborn
    celeborn = Celeborn(
        "celeborn",
        CelebornArgs(
            config=shuffle,
            worker_zones=config.pool_zones(shuffle.pool),
            provider=cluster.provider,
            network_policies=config.network_policies,
            pod_monitors=config.observability.enabled,
            depends_on=[cluster.system_nodes, karpenter.platform_pool, *monitoring],
        ),
        opts=with_aws,
    )
    pulumi.export("celebornMasterEndpoints", celeborn.master_endpoints)

pulumi.export("region", config.region)
pulumi.export("zones", config.network.zones)
pulumi.export("vpcId", network.vpc_id)
pulumi.export("privateSubnetIds", network.private_subnet_ids)
pulumi.export("publicSubnetIds", network.public_subnet_ids)
pulumi.export("clusterName", cluster.name)
pulumi.export("clusterEndpoint", cluster.endpoint)
pulumi.export("clusterSecurityGroupId", cluster.cluster_security_group_id)
pulumi.export("oidcIssuer", cluster.oidc_issuer)
pulumi.export("kubeconfig", cluster.kubeconfig)
pulumi.export("sparkZones", config.spark_zones)
pulumi.export("sparkBucket", storage.bucket_name)
pulumi.export("sparkImageRepositories", registry.repository_urls)
pulumi.export("karpenterNodeRoleArn", karpenter.node_role_arn)
pulumi.export("karpenterInterruptionQueue", karpenter.interruption_queue_name)
pulumi.export("sparkNodePools", karpenter.node_pool_names)
pulumi.export("updateKubeconfigCommand", cluster.name.apply(lambda n: f"aws eks update-kubeconfig --name {n} --region {config.region}"))
