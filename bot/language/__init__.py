"""Layer 1, the flow language: what a comms officer writes, and every check on it.

Owns the flow model and its YAML loading (safe, line-aware, within size, depth and alias limits),
the JSON schema checks, the semantic checks behind ``policybot validate`` (``flow_checks``, with
``reachability`` for the graph in near-linear time and ``loose_states`` for reading what it can
of a broken state), sandboxed templates and their limits (``template_limits``), the citation
registry, the organisation settings, verdicts, graphs and clause coverage, and ``policy_docs``: a
council's own policy file (.txt, .md, .docx, .pdf) read into labelled clauses, what changed between
two versions, and citation quotes checked against it. Nothing here runs a conversation or touches
the database.

May import: bot.errors, bot.clock, bot.telemetry.
"""
