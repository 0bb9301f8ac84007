"""Pulumi components of the platform, one package per concern.

Package `__init__` files stay empty so that pure builders (layouts, policies, manifests) import without
pulling in the Pulumi providers.
"""
