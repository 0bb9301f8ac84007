"""Spark job specs: a short YAML file in, a complete SparkApplication out (`python -m sparkeks job`)."""
