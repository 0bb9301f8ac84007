"""Pure builders of Alertmanager's configuration and the platform's PrometheusRule groups."""

from __future__ import annotations

from typing import Any


def alertmanager_config(*, slack_channel: str | None, slack_webhook_url: str | None) -> dict[str, Any]:
    """Everything to Slack when configured, else to a receiver that keeps alerts in Alertmanager's UI."""
    default = "slack" if slack_webhook_url else "null"
    receivers: list[dict[str, Any]] = [{"name": "null"}]
    if slack_webhook_url:
        receivers.append(
            {
                "name": "slack",
                "slack_configs": [
                    {
                        "api_url": slack_webhook_url,
                        "channel": slack_channel,
                        "send_resolved": True,
                        "title": '[{{ .Status | toUpper }}] {{ .CommonLabels.alertname }}',
                        "text": "{{ range .Alerts }}{{ .Annotations.summary }}\n{{ end }}",
                    }
                ],
            }
        )
    return {
        "route": {
            "receiver": default,
            "group_by": ["alertname", "namespace"],
            "group_wait": "30s",
            "group_interval": "5m",
            "repeat_interval": "4h",
            # The always-firing heartbeat of kube-prometheus-stack proves the pipeline; it is not news.
            "routes": [{"receiver": "null", "matchers": ['alertname = "Watchdog"']}],
        },
        "receivers": receivers,
    }
