"""What the EKS control plane and its logs are charged: the extended-support rate only when the cluster's
upgrade policy is EXTENDED and its Kubernetes minor is past standard support (support.yaml's dates) on the
day the estimate is priced as of (a date the commit holds, never the day it runs), the standard rate
otherwise, and the month from the day the rate changes as a dated change; control-plane logs at standard
CloudWatch Logs ingestion."""

from __future__ import annotations

import copy
from datetime import date

from sparkeks.cost.delta import markdown_section
from sparkeks.cost.estimate import estimate, priced_as_of
from sparkeks.cost.report import markdown

HOURS = 730
# support.yaml: EKS standard support of 1.34 ends 2026-12-02, of 1.35 on 2027-03-27; 1.36 has no date there.
BEFORE_134_ENDS = date(2026, 11, 30)
AFTER_134_ENDS = date(2026, 12, 15)
# The day this commit's hand-pinned prices and support facts were checked: what the plan is priced as of.
COMMIT_DAY = date(2026, 11, 29)
# prod's fixed monthly on the standard cluster-hour (tests/test_cost.py breaks it down), and on the extended one.
PROD_STANDARD, PROD_EXTENDED = 824.99, 824.99 + 365.00
STANDARD_134 = "EKS cluster, Kubernetes 1.34, standard support until 2026-12-02, then extended support (upgrade policy EXTENDED)"


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
    cost = estimate(_with_cluster(prod.plan.resources, "1.34", "EXTENDED"), prod.plan.config, as_of=AFTER_134_ENDS)
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
    standard = estimate(prod.plan.resources, prod.plan.config, as_of=AFTER_134_ENDS)
    assert round(cost["fixedMonthly"]["totalUsd"] - standard["fixedMonthly"]["totalUsd"], 2) == 365.00
    text = markdown("prod", cost)
    assert "| control plane | EKS cluster, Kubernetes 1.34, extended support (standard support ended 2026-12-02) | 1 | cluster-hour | $0.6000 | $438.00 |" in text
    assert "- AWS Containers blog: Amazon EKS extended support for Kubernetes versions pricing (2024-04-01): " in text


def test_extended_policy_on_the_day_standard_support_ends_pays_the_extended_rate(prod):
    cost = estimate(_with_cluster(prod.plan.resources, "1.34", "EXTENDED"), prod.plan.config, as_of=date(2026, 12, 2))
    assert _control_plane(cost)["unitUsd"] == 0.60


def test_extended_policy_within_standard_support_pays_the_standard_rate(prod):
    line = _control_plane(estimate(_with_cluster(prod.plan.resources, "1.34", "EXTENDED"), prod.plan.config, as_of=BEFORE_134_ENDS))
    assert line["item"] == "EKS cluster, Kubernetes 1.34, standard support until 2026-12-02, then extended support (upgrade policy EXTENDED)"
    assert (line["unitUsd"], line["source"], line["monthlyUsd"]) == (0.10, "eks-blog", 73.00)


def test_standard_policy_pays_the_standard_rate_even_past_standard_support(prod):
    # A STANDARD cluster is upgraded by AWS when standard support ends; it never pays the extended rate.
    line = _control_plane(estimate(_with_cluster(prod.plan.resources, "1.34", "STANDARD"), prod.plan.config, as_of=AFTER_134_ENDS))
    assert line["item"] == "EKS cluster, Kubernetes 1.34, standard support (upgrade policy STANDARD: AWS upgrades the cluster when it ends, 2026-12-02)"
    assert (line["unitUsd"], line["monthlyUsd"]) == (0.10, 73.00)


def test_a_minor_without_a_published_end_of_standard_support_pays_the_standard_rate(prod):
    line = _control_plane(estimate(_with_cluster(prod.plan.resources, "1.36", "EXTENDED"), prod.plan.config, as_of=date(2027, 6, 1)))
    assert line["item"] == "EKS cluster, Kubernetes 1.36, standard support (no end of standard support in sparkeks/support.yaml)"
    assert line["unitUsd"] == 0.10


def test_a_cluster_without_an_upgrade_policy_is_extended_as_the_eks_api_defaults(prod):
    line = _control_plane(estimate(_with_cluster(prod.plan.resources, "1.34", None), prod.plan.config, as_of=AFTER_134_ENDS))
    assert (line["item"], line["unitUsd"]) == ("EKS cluster, Kubernetes 1.34, extended support (standard support ended 2026-12-02)", 0.60)


def test_the_stack_config_reaches_the_estimate(plan_variant):
    plan = plan_variant("prod", cluster={"kubernetesVersion": "1.34", "supportType": "EXTENDED"})
    line = _control_plane(estimate(plan.plan.resources, plan.plan.config, as_of=AFTER_134_ENDS))
    assert (line["item"], line["unitUsd"], line["monthlyUsd"]) == (
        "EKS cluster, Kubernetes 1.34, extended support (standard support ended 2026-12-02)", 0.60, 438.00,
    )  # fmt: skip


def test_extended_support_in_a_region_without_its_price_is_an_unpriced_line(dev):
    cost = estimate(_with_cluster(dev.plan.resources, "1.34", "EXTENDED"), dev.plan.config, as_of=AFTER_134_ENDS)
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
    line = _control_plane(estimate(_with_cluster(dev.plan.resources, "1.34", "EXTENDED"), dev.plan.config, as_of=AFTER_134_ENDS))
    assert (line["unitUsd"], line["source"], line["monthlyUsd"]) == (0.6003, "price-list:us-west-2", round(0.6003 * HOURS, 2))


def _by_component(control_plane):
    return {
        "control plane": control_plane,
        "system nodes": 232.75,
        "platform nodes": 260.29,
        "NAT gateways": 98.55,
        "interface endpoints": 131.40,
        "storage baselines": 29.00,
    }


def test_extended_134_before_its_end_prices_the_month_standard_and_the_month_from_its_end_extended(prod):
    cost = estimate(_with_cluster(prod.plan.resources, "1.34", "EXTENDED"), prod.plan.config, as_of=COMMIT_DAY)
    assert cost["asOf"] == "2026-11-29"
    line = _control_plane(cost)
    assert (line["item"], line["unitUsd"], line["monthlyUsd"]) == (STANDARD_134, 0.10, 73.00)
    assert cost["fixedMonthly"]["totalUsd"] == PROD_STANDARD
    assert cost["fixedMonthlyFrom"] == [
        {
            "date": "2026-12-02",
            "lines": [
                {
                    "component": "control plane",
                    "item": "EKS cluster, Kubernetes 1.34, extended support from 2026-12-02 (upgrade policy EXTENDED)",
                    "quantity": 1,
                    "unit": "cluster-hour",
                    "unitUsd": 0.60,
                    "source": "eks-blog",
                    "monthlyUsd": 438.00,
                }
            ],
            "replaces": [STANDARD_134],
            "changeUsd": 365.00,
            "totalUsd": round(PROD_EXTENDED, 2),
            "complete": True,
            "byComponent": _by_component(438.00),
            "unpriced": [],
        }
    ]
    text = markdown("prod", cost).split("\n")
    assert "**Fixed monthly: $824.99 (from 2026-12-02: $1,189.99)**" in text
    assert f"| control plane | {STANDARD_134} | 1 | cluster-hour | $0.1000 | $73.00 |" in text
    start = text.index("## Dated changes")
    assert text[start : start + 10] == [
        "## Dated changes",
        "",
        "Set by dates in `sparkeks/support.yaml` that fall after 2026-11-29, the day this estimate is priced as of.",
        "",
        "### From 2026-12-02: fixed monthly $1,189.99 (+$365.00)",
        "",
        "| component | item | quantity | unit | unit price | monthly |",
        "|---|---|---:|---|---:|---:|",
        "| control plane | EKS cluster, Kubernetes 1.34, extended support from 2026-12-02 (upgrade policy EXTENDED) | 1 | cluster-hour | $0.6000 | $438.00 |",
        "",
    ]
    assert text[start + 10] == f"Instead of: {STANDARD_134} ($73.00)."


def test_extended_135_dates_its_change_at_the_end_of_135s_standard_support(prod):
    cost = estimate(_with_cluster(prod.plan.resources, "1.35", "EXTENDED"), prod.plan.config, as_of=COMMIT_DAY)
    standard = "EKS cluster, Kubernetes 1.35, standard support until 2027-03-27, then extended support (upgrade policy EXTENDED)"
    assert (_control_plane(cost)["item"], _control_plane(cost)["monthlyUsd"]) == (standard, 73.00)
    [dated] = cost["fixedMonthlyFrom"]
    assert (dated["date"], dated["replaces"], dated["changeUsd"], dated["totalUsd"]) == ("2027-03-27", [standard], 365.00, 1189.99)
    assert [(line["item"], line["unitUsd"], line["monthlyUsd"]) for line in dated["lines"]] == [
        ("EKS cluster, Kubernetes 1.35, extended support from 2027-03-27 (upgrade policy EXTENDED)", 0.60, 438.00)
    ]
    assert "### From 2027-03-27: fixed monthly $1,189.99 (+$365.00)" in markdown("prod", cost).split("\n")


def test_standard_policy_has_no_dated_change(prod):
    cost = estimate(_with_cluster(prod.plan.resources, "1.34", "STANDARD"), prod.plan.config, as_of=COMMIT_DAY)
    assert _control_plane(cost)["item"] == "EKS cluster, Kubernetes 1.34, standard support (upgrade policy STANDARD: AWS upgrades the cluster when it ends, 2026-12-02)"
    assert cost["fixedMonthlyFrom"] == []
    text = markdown("prod", cost).split("\n")
    assert "**Fixed monthly: $824.99**" in text
    assert "## Dated changes" not in text


def test_extended_past_its_end_on_the_priced_day_is_charged_extended_with_no_dated_change(prod):
    cost = estimate(_with_cluster(prod.plan.resources, "1.34", "EXTENDED"), prod.plan.config, as_of=AFTER_134_ENDS)
    assert _control_plane(cost)["unitUsd"] == 0.60
    assert cost["fixedMonthlyFrom"] == []


def test_a_minor_without_a_published_end_has_no_dated_change(prod):
    cost = estimate(_with_cluster(prod.plan.resources, "1.36", "EXTENDED"), prod.plan.config, as_of=COMMIT_DAY)
    assert cost["fixedMonthlyFrom"] == []


def test_a_dated_change_in_a_region_without_its_price_is_unpriced(dev):
    cost = estimate(_with_cluster(dev.plan.resources, "1.34", "EXTENDED"), dev.plan.config, as_of=COMMIT_DAY)
    [dated] = cost["fixedMonthlyFrom"]
    extended = "EKS cluster, Kubernetes 1.34, extended support from 2026-12-02 (upgrade policy EXTENDED)"
    assert dated["lines"] == [
        {
            "component": "control plane",
            "item": extended,
            "quantity": 1,
            "unit": "EKS cluster-hour (extended support)",
            "unpriced": "no EKS cluster-hour (extended support) price for us-west-2 in the price table",
            "monthlyUsd": None,
        }
    ]
    assert dated["changeUsd"] is None and dated["complete"] is False
    assert extended in dated["unpriced"] and STANDARD_134 not in dated["unpriced"]


def test_the_plan_is_priced_as_of_the_newer_of_the_price_table_and_the_support_facts(tmp_path, monkeypatch):
    from sparkeks.cost import prices, refresh
    from sparkeks.version_policy import SUPPORT_FILE
    from tests.test_price_list import WANTED, _fetch

    support = tmp_path / "support.yaml"
    support.write_text(SUPPORT_FILE.read_text().replace('checked: "2026-11-29"', 'checked: "2026-12-20"'))
    monkeypatch.setattr(prices, "CHECKED", date(2026, 11, 29))
    assert priced_as_of("us-east-1", support) == date(2026, 12, 20)  # the support facts are newer
    assert priced_as_of("us-east-1") == date(2026, 11, 29)
    monkeypatch.setattr(prices, "CHECKED", date(2027, 1, 4))
    assert priced_as_of("us-east-1", support) == date(2027, 1, 4)  # the hand-pinned prices are newer
    # A region with a Price List table: its prices are as of the day the table was fetched, not the hand-pinned date.
    for fetched, priced in ((date(2026, 12, 10), date(2026, 12, 20)), (date(2027, 2, 1), date(2027, 2, 1))):
        tables = tmp_path / f"tables-{fetched}"
        refresh.refresh(["us-west-2"], tables, WANTED, _fetch(), fetched)
        monkeypatch.setenv(prices.TABLES_ENV, str(tables))
        assert priced_as_of("us-west-2", support) == priced


def test_a_commit_whose_facts_are_past_the_end_is_charged_extended_without_a_day_given(prod, monkeypatch):
    from sparkeks.cost import prices

    # A commit whose hand-pinned prices were checked after 2026-12-02: 1.34 is past standard support by its facts.
    monkeypatch.setattr(prices, "CHECKED", date(2026, 12, 15))
    cost = estimate(_with_cluster(prod.plan.resources, "1.34", "EXTENDED"), prod.plan.config)
    assert cost["asOf"] == "2026-12-15"
    assert (_control_plane(cost)["item"], _control_plane(cost)["monthlyUsd"]) == (
        "EKS cluster, Kubernetes 1.34, extended support (standard support ended 2026-12-02)", 438.00,
    )  # fmt: skip
    assert cost["fixedMonthlyFrom"] == []


def test_the_estimate_is_priced_as_of_the_commits_day_by_default(prod):
    cost = estimate(_with_cluster(prod.plan.resources, "1.34", "EXTENDED"), prod.plan.config)
    assert cost["asOf"] == priced_as_of("us-east-1").isoformat() == COMMIT_DAY.isoformat()
    assert [d["date"] for d in cost["fixedMonthlyFrom"]] == ["2026-12-02"]


def test_diff_of_moving_a_cluster_to_extended_shows_the_month_from_its_end(prod):
    base = estimate(_with_cluster(prod.plan.resources, "1.34", "STANDARD"), prod.plan.config, as_of=COMMIT_DAY)
    head = estimate(_with_cluster(prod.plan.resources, "1.34", "EXTENDED"), prod.plan.config, as_of=COMMIT_DAY)
    lines = markdown_section(base, head).split("\n")
    assert "Fixed monthly: $824.99 -> $824.99 (**+$0.00 a month**)." in lines
    assert "From 2026-12-02: fixed monthly $824.99 -> $1,189.99 (**+$365.00 a month**)." in lines
    assert "No change to fixed cost or to the cost of Spark capacity." not in lines
    # Both on EXTENDED: the day changes both plans alike, so the diff has nothing dated to say.
    assert not [line for line in markdown_section(head, head).split("\n") if line.startswith("From ")]
    # The other way round, the change from that day is a saving.
    assert "From 2026-12-02: fixed monthly $1,189.99 -> $824.99 (**-$365.00 a month**)." in markdown_section(head, base).split("\n")


def test_dr_comparison_states_the_month_from_the_dated_change(prod):
    from sparkeks.cost.dr import comparison_lines

    cost = estimate(_with_cluster(prod.plan.resources, "1.34", "EXTENDED"), prod.plan.config, as_of=COMMIT_DAY)
    lines = comparison_lines("prod", cost, prod.plan.config, "prod-dr", cost)
    assert lines[1] == "  primary prod: $824.99 (from 2026-12-02: $1,189.99) fixed, plus Spark nodes while they run"
