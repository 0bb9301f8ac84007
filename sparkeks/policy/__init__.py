"""The platform's guardrails: pure rules (rules.py) run by the Pulumi policy pack (pack.py, `policy/`)
and over offline plans (offline.py, `python -m sparkeks plan <stack> --policy`)."""
