"""Spark knowledge shared by the platform and the job tools (defaults, sizing, versions)."""
