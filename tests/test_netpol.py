"""The NetworkPolicy builders and the evaluator the reachability tests rely on, on small hand-made cases."""

from __future__ import annotations

from sparkeks.netpol import Address, Allowance, ClusterNetwork, Pod, dns, may_connect, namespace_policies, pods, rule, tcp

NET = ClusterNetwork("10.20.0.0/16", ("10.20.0.0/18", "10.20.64.0/18"), "172.20.0.0/16")


def test_a_namespace_is_a_default_deny_and_one_policy_per_allowance():
    policies = namespace_policies(
        "celeborn",
        [
            Allowance("workers", {"app": "worker"}, ingress=[rule([pods("analytics")], tcp(9097), "ingress")]),
            Allowance("to-api", egress=[dns(), NET.api_server()]),
        ],
        labels={"team": "platform"},
    )
    assert policies == [
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {"name": "default-deny", "namespace": "celeborn", "labels": {"team": "platform"}},
            "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]},
        },
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {"name": "workers", "namespace": "celeborn", "labels": {"team": "platform"}},
            "spec": {
                "podSelector": {"matchLabels": {"app": "worker"}},
                "policyTypes": ["Ingress"],
                "ingress": [
                    {
                        "from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "analytics"}}}],
                        "ports": [{"protocol": "TCP", "port": 9097}],
                    }
                ],
            },
        },
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {"name": "to-api", "namespace": "celeborn", "labels": {"team": "platform"}},
            "spec": {
                "podSelector": {},
                "policyTypes": ["Egress"],
                "egress": [
                    {
                        "to": [
                            {
                                "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
                                "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
                            }
                        ],
                        "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
                    },
                    {
                        "to": [{"ipBlock": {"cidr": "172.20.0.1/32"}}, {"ipBlock": {"cidr": "10.20.0.0/18"}}, {"ipBlock": {"cidr": "10.20.64.0/18"}}],
                        "ports": [{"protocol": "TCP", "port": 443}],
                    },
                ],
            },
        },
    ]


def test_public_https_cuts_out_a_vpc_outside_the_private_ranges():
    net = ClusterNetwork("198.19.0.0/16", ("198.19.0.0/18",), "10.100.0.0/16")
    [block] = net.aws_public_endpoints()["to"]
    assert block["ipBlock"]["except"] == ["10.0.0.0/8", "100.64.0.0/10", "169.254.0.0/16", "172.16.0.0/12", "192.168.0.0/16", "198.19.0.0/16"]
    assert net.api_service_ip == "10.100.0.1"


def test_a_connection_needs_the_sources_egress_and_the_targets_ingress():
    client, server = Pod("a", {"app": "client"}, "10.20.1.1"), Pod("b", {"app": "server"}, "10.20.1.2")
    ingress = namespace_policies("b", [Allowance("server", {"app": "server"}, ingress=[rule([pods("a", {"app": "client"})], tcp(80), "ingress")])])
    egress_to_b = namespace_policies("a", [Allowance("client", {"app": "client"}, egress=[rule([pods("b")], tcp(80), "egress")])])
    egress_elsewhere = namespace_policies("a", [Allowance("client", {"app": "client"}, egress=[rule([pods("c")], tcp(80), "egress")])])
    assert may_connect(ingress, {}, client, server, 80)
    assert not may_connect(ingress, {}, client, server, 81)
    assert not may_connect(ingress, {}, server, client, 80)  # b denies egress by default
    assert may_connect(ingress + egress_to_b, {}, client, server, 80)
    assert not may_connect(ingress + egress_elsewhere, {}, client, server, 80)
    # UDP is not TCP.
    assert not may_connect(ingress, {}, client, server, 80, "UDP")


def test_ip_blocks_match_addresses_and_their_exceptions():
    policies = namespace_policies("x", [Allowance("out", egress=[NET.aws_public_endpoints(), NET.interface_endpoints()])])
    me = Pod("x", {}, "10.20.1.1")
    assert may_connect(policies, {}, me, Address("52.216.8.1"), 443)
    assert not may_connect(policies, {}, me, Address("52.216.8.1"), 80)
    assert may_connect(policies, {}, me, Address("10.20.65.3"), 443)  # an interface endpoint
    assert not may_connect(policies, {}, me, Address("10.20.200.3"), 443)  # the VPC outside the private subnets
    assert not may_connect(policies, {}, me, Address("10.99.0.1"), 443)  # a peered network
    assert not may_connect(policies, {}, me, Address("169.254.169.254"), 80)
    # A pod without an address is never matched by an ipBlock.
    assert not may_connect(policies, {}, me, Pod("y", {}), 443)
