"""Layer 0, telemetry: Prometheus metrics and logging set-up.

At the bottom because every layer records into it (the engine counts turns, the outbox counts
deliveries). It imports nothing else from bot except the error base.
"""
