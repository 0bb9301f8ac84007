"""The offline plan: the real program run under Pulumi mocks against a simulated AWS account."""
