"""What the EKS control plane and its logs are charged: the extended-support rate only when the cluster's
upgrade policy is EXTENDED and its Kubernetes minor is past standard support (support.yaml's dates), the
standard rate otherwise; control-plane logs at standard CloudWatch Logs ingestion."""

from __future__ import annotations

import copy
from datetime import date

from sparkeks.cost.estimate import estimate
from sparkeks.cost.report import markdown

HOURS = 730
# support.yaml: EKS standard support of 1.34 ends 2026-12-02, of 1.35 on 2027-03-27; 1.36 has no date there.
BEFORE_134_ENDS = date(2026, 11, 30)
AFTER_134_ENDS = date(2026, 12, 15)


def _with_cluster(resources, version, support_type):
    """The plan's resources with the EKS cluster at another minor and upgrade policy."""
    out = copy.deepcopy(resources)
    [cluster] = [r for r in out if r["type"] == "aws:eks/cluster:Cluster"]
    cluster["inputs"]["version"] = version
    if support_type is None:
        cluster["inputs"].pop("upgradePolicy", None)
    else:
        cluster["inputs"]["upgradePolicy"] = {"supportType": support_type}
    return out


def _control_plane(cost):
    [line] = [line for line in cost["fixedMonthly"]["lines"] if line["component"] == "control plane"]
    return line


def test_extended_policy_past_standard_support_pays_the_extended_rate(prod):
    cost = estimate(_with_cluster(prod.plan.resources, "1.34", "EXTENDED"), prod.plan.config, on=AFTER_134_ENDS)
    line = _control_plane(cost)
    assert line == {
        "component": "control plane",
        "item": "EKS cluster, Kubernetes 1.34, extended support (standard support ended 2026-12-02)",
        "quantity": 1,
        "unit": "cluster-hour",
        "unitUsd": 0.60,  # AWS's total for a cluster in extended support (standard $0.10 plus $0.50)
        "source": "eks-blog",
        "monthlyUsd": round(0.60 * HOURS, 2),
    }
    assert line["monthlyUsd"] == 438.00
    assert cost["fixedMonthly"]["byComponent"]["control plane"] == 438.00
    # 365.00 more than the standard-rate total the same stack pays on STANDARD.
    standard = estimate(prod.plan.resources, prod.plan.config, on=AFTER_134_ENDS)
    assert round(cost["fixedMonthly"]["totalUsd"] - standard["fixedMonthly"]["totalUsd"], 2) == 365.00
    text = markdown("prod", cost)
    assert "| control plane | EKS cluster, Kubernetes 1.34, extended support (standard support ended 2026-12-02) | 1 | cluster-hour | $0.6000 | $438.00 |" in text
    assert "- AWS Containers blog: Amazon EKS extended support for Kubernetes versions pricing (2024-04-01): " in text


def test_extended_policy_on_the_day_standard_support_ends_pays_the_extended_rate(prod):
    cost = estimate(_with_cluster(prod.plan.resources, "1.34", "EXTENDED"), prod.plan.config, on=date(2026, 12, 2))
    assert _control_plane(cost)["unitUsd"] == 0.60


def test_extended_policy_within_standard_support_pays_the_standard_rate(prod):
    line = _control_plane(estimate(_with_cluster(prod.plan.resources, "1.34", "EXTENDED"), prod.plan.config, on=BEFORE_134_ENDS))
    assert line["item"] == "EKS cluster, Kubernetes 1.34, standard support until 2026-12-02, then extended support (upgrade policy EXTENDED)"
    assert (line["unitUsd"], line["source"], line["monthlyUsd"]) == (0.10, "eks-blog", 73.00)


def test_standard_policy_pays_the_standard_rate_even_past_standard_support(prod):
    # A STANDARD cluster is upgraded by AWS when standard support ends; it never pays the extended rate.
    line = _control_plane(estimate(_with_cluster(prod.plan.resources, "1.34", "STANDARD"), prod.plan.config, on=AFTER_134_ENDS))
    assert line["item"] == "EKS cluster, Kubernetes 1.34, standard support (upgrade policy STANDARD: AWS upgrades the cluster when it ends, 2026-12-02)"
    assert (line["unitUsd"], line["monthlyUsd"]) == (0.10, 73.00)


def test_a_minor_without_a_published_end_of_standard_support_pays_the_standard_rate(prod):
    line = _control_plane(estimate(_with_cluster(prod.plan.resources, "1.36", "EXTENDED"), prod.plan.config, on=date(2027, 6, 1)))
    assert line["item"] == "EKS cluster, Kubernetes 1.36, standard support (no end of standard support in sparkeks/support.yaml)"
    assert line["unitUsd"] == 0.10


def test_a_cluster_without_an_upgrade_policy_is_extended_as_the_eks_api_defaults(prod):
    line = _control_plane(estimate(_with_cluster(prod.plan.resources, "1.34", None), prod.plan.config, on=AFTER_134_ENDS))
    assert (line["item"], line["unitUsd"]) == ("EKS cluster, Kubernetes 1.34, extended support (standard support ended 2026-12-02)", 0.60)


def test_the_stack_config_reaches_the_estimate(plan_variant):
    plan = plan_variant("prod", cluster={"kubernetesVersion": "1.34", "supportType": "EXTENDED"})
    line = _control_plane(estimate(plan.plan.resources, plan.plan.config, on=AFTER_134_ENDS))
    assert (line["item"], line["unitUsd"], line["monthlyUsd"]) == (
        "EKS cluster, Kubernetes 1.34, extended support (standard support ended 2026-12-02)", 0.60, 438.00,
    )  # fmt: skip


def test_extended_support_in_a_region_without_its_price_is_an_unpriced_line(dev):
    cost = estimate(_with_cluster(dev.plan.resources, "1.34", "EXTENDED"), dev.plan.config, on=AFTER_134_ENDS)
    line = _control_plane(cost)
    assert line == {
        "component": "control plane",
        "item": "EKS cluster, Kubernetes 1.34, extended support (standard support ended 2026-12-02)",
        "quantity": 1,
        "unit": "EKS cluster-hour (extended support)",
        "unpriced": "no EKS cluster-hour (extended support) price for us-west-2 in the price table",
        "monthlyUsd": None,
    }
    assert line["item"] in cost["fixedMonthly"]["unpriced"]


def test_control_plane_logs_are_priced_at_standard_ingestion(prod):
    # The EKS user guide: control-plane logs pay standard CloudWatch Logs ingestion and storage (they are not
    # vended logs, whose tiers the CloudWatch pricing page lists for other services' logs).
    rates = {r["item"]: r for r in estimate(prod.plan.resources, prod.plan.config)["usageRates"]}
    assert rates["EKS control-plane logs ingested (standard CloudWatch Logs ingestion, not vended logs)"] == {
        "item": "EKS control-plane logs ingested (standard CloudWatch Logs ingestion, not vended logs)",
        "usd": 0.50,
        "unit": "GB ingested",
        "source": "logs",
    }
    assert rates["EKS control-plane logs stored"]["usd"] == 0.03


def test_extended_support_from_a_price_list_table_is_its_standard_hour_plus_the_surcharge(dev, tmp_path, monkeypatch):
    from sparkeks.cost import prices, refresh
    from tests.test_price_list import FETCHED, WANTED, _fetch

    # The fixture's answers: AmazonEKS-Hours:perCluster 0.1001 and AmazonEKS-Hours:extendedSupport 0.5002 (test data).
    refresh.refresh(["us-west-2"], tmp_path, WANTED, _fetch(), FETCHED)
    monkeypatch.setenv(prices.TABLES_ENV, str(tmp_path))
    line = _control_plane(estimate(_with_cluster(dev.plan.resources, "1.34", "EXTENDED"), dev.plan.config, on=AFTER_134_ENDS))
    assert (line["unitUsd"], line["source"], line["monthlyUsd"]) == (0.6003, "price-list:us-west-2", round(0.6003 * HOURS, 2))
