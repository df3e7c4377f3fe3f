"""Layer 5, operations: health and readiness endpoints, the outbox probe, usage and onboarding reports,
retention and subject access over every table that declares personal data (``data_protection``).

What an operator or a manager reads about the running service. Adapters serve these over HTTP.

May import: bot.cases, bot.conversation, bot.store, bot.language, and layer 0.
"""
