"""Stack configuration: the typed model and the loader that turns raw Pulumi config into it."""
