"""Layer 1, the flow language: what a comms officer writes, and every check on it.

Owns the flow model and its YAML loading (safe, line-aware), the JSON schema checks, the semantic
checks behind ``policybot validate``, sandboxed templates, the citation registry, the organisation
settings, verdicts, graphs and clause coverage. Nothing here runs a conversation or touches the
database.

May import: bot.errors, bot.clock, bot.telemetry.
"""
