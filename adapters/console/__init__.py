"""The terminal adapter: ``policybot chat``."""
