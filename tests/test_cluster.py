"""Cluster: control plane settings, IAM exactly, add-ons and their order, system nodes, storage."""

from __future__ import annotations

import json

from sparkeks import versions

CLUSTER = "aws:eks/cluster:Cluster"
ADDON = "aws:eks/addon:Addon"
ROLE = "aws:iam/role:Role"
ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"


def _ref(resource):
    return f"{resource['type']}::{resource['name']}"


def test_control_plane_logs_go_to_a_log_group_with_retention_made_first(prod):
    cluster = prod.one(CLUSTER)
    assert cluster["inputs"]["enabledClusterLogTypes"] == ["api", "audit", "authenticator", "controllerManager", "scheduler"]
    group = prod.one("aws:cloudwatch/logGroup:LogGroup")
    assert group["inputs"]["name"] == "/aws/eks/spark-prod/cluster"
    assert group["inputs"]["retentionInDays"] == 365
    assert _ref(group) in cluster["options"]["dependsOn"]


def test_secrets_are_envelope_encrypted_with_a_rotating_key(prod):
    cluster = prod.one(CLUSTER)
    key = prod.one("aws:kms/key:Key")
    assert key["inputs"]["enableKeyRotation"] is True
    encryption = cluster["inputs"]["encryptionConfig"]
    assert encryption["resources"] == ["secrets"]
    assert encryption["provider"]["keyArn"] == f"arn:aws:kms:us-east-1:111122223333:key/{prod.id_of(key)}"


def test_control_plane_role_trust_and_permissions_exactly(prod):
    role = prod.one(ROLE, "cluster-control-plane")
    assert json.loads(role["inputs"]["assumeRolePolicy"]) == {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "eks.amazonaws.com"}, "Action": ["sts:AssumeRole", "sts:TagSession"]}
        ],
    }
    attached = [a["inputs"]["policyArn"] for a in prod.of_type(ATTACHMENT) if a["name"].startswith("cluster-control-plane-")]
    assert attached == ["arn:aws:iam::aws:policy/AmazonEKSClusterPolicy"]
    key_arn = prod.one(CLUSTER)["inputs"]["encryptionConfig"]["provider"]["keyArn"]
    inline = json.loads(prod.one("aws:iam/rolePolicy:RolePolicy", "cluster-control-plane-secrets-encryption")["inputs"]["policy"])
    assert inline["Statement"] == [
        {
            "Sid": "EnvelopeEncryptionOfSecrets",
            "Effect": "Allow",
            "Action": ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:ListGrants"],
            "Resource": key_arn,
        }
    ]


def test_endpoint_private_and_public_only_from_listed_cidrs(prod, dev):
    vpc = prod.one(CLUSTER)["inputs"]["vpcConfig"]
    assert vpc["endpointPrivateAccess"] is True
    assert vpc["endpointPublicAccess"] is True
    assert vpc["publicAccessCidrs"] == ["203.0.113.0/24"]
    assert dev.one(CLUSTER)["inputs"]["vpcConfig"]["publicAccessCidrs"] == ["198.51.100.0/24"]


def test_no_public_cidrs_means_a_private_only_endpoint(plan_variant):
    view = plan_variant("dev", cluster={"publicAccessCidrs": []})
    vpc = view.one(CLUSTER)["inputs"]["vpcConfig"]
    assert vpc["endpointPublicAccess"] is False and vpc["endpointPrivateAccess"] is True
    assert "publicAccessCidrs" not in vpc


def test_cluster_runs_in_the_private_subnets_with_api_auth_and_pinned_version(prod):
    cluster = prod.one(CLUSTER)["inputs"]
    private = sorted(
        prod.id_of(s)
        for s in prod.of_type("aws:ec2/subnet:Subnet")
        if s["inputs"]["tags"]["spark-on-eks/subnet-tier"] == "private"
    )
    assert sorted(cluster["vpcConfig"]["subnetIds"]) == private
    assert cluster["accessConfig"]["authenticationMode"] == "API"
    assert cluster["version"] == "1.35"
    assert cluster["kubernetesNetworkConfig"] == {"ipFamily": "ipv4", "serviceIpv4Cidr": "172.20.0.0/16"}
    assert cluster["bootstrapSelfManagedAddons"] is False


def test_admins_get_cluster_admin_through_access_entries(prod):
    entry = prod.one("aws:eks/accessEntry:AccessEntry", "cluster-admin-0")
    assert entry["inputs"] == {
        "clusterName": "spark-prod",
        "principalArn": "arn:aws:iam::111122223333:role/platform-admin",
        "type": "STANDARD",
    }
    association = prod.one("aws:eks/accessPolicyAssociation:AccessPolicyAssociation")
    assert association["inputs"]["policyArn"] == "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
    assert association["inputs"]["accessScope"] == {"type": "cluster"}
    assert association["inputs"]["principalArn"] == entry["inputs"]["principalArn"]


def test_cluster_security_group_is_tagged_for_karpenter(prod):
    tag = prod.one("aws:ec2/tag:Tag")
    assert tag["inputs"]["key"] == "karpenter.sh/discovery" and tag["inputs"]["value"] == "spark-prod"
    assert tag["inputs"]["resourceId"] == prod.plan.outputs["clusterSecurityGroupId"]


def test_five_addons_at_the_pinned_versions(prod, dev):
    for view in (prod, dev):
        addons = {a["inputs"]["addonName"]: a["inputs"]["addonVersion"] for a in view.of_type(ADDON)}
        assert addons == dict(versions.EKS_ADDON_VERSIONS["1.35"])
        assert sorted(addons) == ["aws-ebs-csi-driver", "coredns", "eks-pod-identity-agent", "kube-proxy", "vpc-cni"]


def test_addon_versions_follow_the_kubernetes_version(plan_variant):
    view = plan_variant("dev", cluster={"kubernetesVersion": "1.36"})
    addons = {a["inputs"]["addonName"]: a["inputs"]["addonVersion"] for a in view.of_type(ADDON)}
    assert addons["kube-proxy"].startswith("v1.36.")
    assert view.one(CLUSTER)["inputs"]["version"] == "1.36"
    assert view.one(NODE_GROUP)["inputs"]["version"] == "1.36"


def test_networking_addons_come_before_nodes_and_dns_and_storage_after(prod):
    node_group = prod.one(NODE_GROUP)
    for name in ("vpc-cni", "kube-proxy", "eks-pod-identity-agent"):
        assert f"{ADDON}::cluster-{name}" in node_group["options"]["dependsOn"]
    for name in ("coredns", "aws-ebs-csi-driver"):
        assert _ref(node_group) in prod.one(ADDON, f"cluster-{name}")["options"]["dependsOn"]


def test_ebs_csi_driver_gets_its_role_through_pod_identity(prod):
    addon = prod.one(ADDON, "cluster-aws-ebs-csi-driver")
    role = prod.one(ROLE, "cluster-ebs-csi")
    [association] = addon["inputs"]["podIdentityAssociations"]
    assert association == {"roleArn": f"arn:aws:iam::111122223333:role/{prod.id_of(role)}", "serviceAccount": "ebs-csi-controller-sa"}
    trust = json.loads(role["inputs"]["assumeRolePolicy"])
    assert trust["Statement"][0]["Condition"]["StringEquals"] == {
        "aws:SourceAccount": "111122223333",
        "aws:RequestTag/kubernetes-namespace": "kube-system",
        "aws:RequestTag/kubernetes-service-account": "ebs-csi-controller-sa",
    }
    assert prod.one(ATTACHMENT, "cluster-ebs-csi")["inputs"]["policyArn"] == (
        "arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy"
    )


def test_system_node_group_on_demand_in_every_private_subnet_and_tainted(prod):
    group = prod.one(NODE_GROUP)["inputs"]
    private_ids = sorted(prod.plan.outputs["privateSubnetIds"])
    assert sorted(group["subnetIds"]) == private_ids and len(private_ids) == 3
    assert group["capacityType"] == "ON_DEMAND"
    assert group["amiType"] == "AL2023_x86_64_STANDARD"
    assert group["instanceTypes"] == ["m7i.large", "m6i.large", "m7a.large"]
    assert group["scalingConfig"] == {"minSize": 3, "desiredSize": 3, "maxSize": 6}
    assert group["taints"] == [{"key": "CriticalAddonsOnly", "value": "true", "effect": "NO_SCHEDULE"}]
    assert group["labels"] == {"spark-on-eks.io/pool": "system"}
    assert prod.one(NODE_GROUP)["options"]["ignoreChanges"] == ["scalingConfig.desiredSize"]


def test_graviton_system_nodes_get_the_arm_ami(plan_variant):
    view = plan_variant("dev", cluster={"systemNodeGroup": {"instanceTypes": ["m7g.large", "m8g.large"]}})
    assert view.one(NODE_GROUP)["inputs"]["amiType"] == "AL2023_ARM_64_STANDARD"


def test_system_nodes_require_imdsv2_with_one_hop_and_encrypted_gp3(prod):
    template = prod.one("aws:ec2/launchTemplate:LaunchTemplate")["inputs"]
    assert template["metadataOptions"]["httpTokens"] == "required"
    assert template["metadataOptions"]["httpPutResponseHopLimit"] == 1
    [disk] = template["blockDeviceMappings"]
    assert disk["ebs"] == {"volumeSize": 50, "volumeType": "gp3", "encrypted": "true", "deleteOnTermination": "true"}
    group = prod.one(NODE_GROUP)["inputs"]
    assert group["launchTemplate"]["id"] == prod.id_of(prod.one("aws:ec2/launchTemplate:LaunchTemplate"))


def test_node_role_has_exactly_the_join_policies(prod):
    role = prod.one(ROLE, "cluster-system-node")
    assert json.loads(role["inputs"]["assumeRolePolicy"])["Statement"] == [
        {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ]
    attached = sorted(a["inputs"]["policyArn"] for a in prod.of_type(ATTACHMENT) if a["name"].startswith("cluster-system-node-"))
    assert attached == [
        "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPullOnly",
        "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy",
        "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy",
        "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",
    ]


def test_state_is_protected_and_retained_in_prod_only(prod, dev):
    for typ in ("aws:kms/key:Key", "aws:cloudwatch/logGroup:LogGroup"):
        assert prod.one(typ)["options"]["protect"] is True
        assert prod.one(typ)["options"]["retainOnDelete"] is True
        assert dev.one(typ)["options"]["protect"] is False
        assert dev.one(typ)["options"]["retainOnDelete"] is False
    assert prod.one(CLUSTER)["inputs"]["deletionProtection"] is True
    assert dev.one(CLUSTER)["inputs"]["deletionProtection"] is False
    assert prod.one("aws:kms/key:Key")["inputs"]["deletionWindowInDays"] == 30


def test_kubernetes_provider_uses_aws_eks_get_token_and_is_secret(prod):
    provider = prod.one("pulumi:providers:kubernetes")
    assert provider["inputs"]["kubeconfig"] == "[secret]"
    assert prod.plan.outputs["kubeconfig"] == "[secret]"


def test_kubeconfig_builder_execs_aws_eks_get_token():
    from components.cluster.kubeconfig import kubeconfig

    config = kubeconfig("spark-prod", "https://x.eks.amazonaws.com", "Q0E=", "us-east-1")
    [user] = config["users"]
    assert user["user"]["exec"]["command"] == "aws"
    assert user["user"]["exec"]["args"] == ["eks", "get-token", "--cluster-name", "spark-prod", "--region", "us-east-1", "--output", "json"]
    assert config["clusters"][0]["cluster"] == {"server": "https://x.eks.amazonaws.com", "certificate-authority-data": "Q0E="}


def test_default_storage_class_is_encrypted_gp3_bound_at_first_consumer(prod):
    storage = prod.one("kubernetes:storage.k8s.io/v1:StorageClass")
    assert storage["inputs"]["metadata"]["annotations"] == {"storageclass.kubernetes.io/is-default-class": "true"}
    assert storage["inputs"]["provisioner"] == "ebs.csi.aws.com"
    assert storage["inputs"]["parameters"] == {"type": "gp3", "encrypted": "true", "fsType": "ext4"}
    assert storage["inputs"]["volumeBindingMode"] == "WaitForFirstConsumer"
    assert f"{ADDON}::cluster-aws-ebs-csi-driver" in storage["options"]["dependsOn"]
    assert storage["options"]["provider"] == "pulumi:providers:kubernetes::cluster-k8s"


def test_every_aws_resource_carries_the_platform_tags_by_default(prod):
    provider = prod.one("pulumi:providers:aws")
    tags = json.loads(provider["inputs"]["defaultTags"])["tags"]
    assert tags["spark-on-eks/stack"] == "prod" and tags["spark-on-eks/environment"] == "prod"
    assert tags["cost-center"] == "data-prod"
    aws_resources = [r for r in prod.plan.resources if r["type"].startswith("aws:")]
    assert {r["options"].get("provider") for r in aws_resources} == {"pulumi:providers:aws::aws"}
