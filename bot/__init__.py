"""policybot's core: everything about a conversation, and nothing about any chat platform.

The core is laid out in layers, one package each. A module may import from its own layer and the
layers below it, never from a layer above (tests/core/test_layers.py enforces it, and refuses
import cycles between modules):

    0  bot.errors, bot.clock, bot.telemetry   the error base, time, metrics and logging
    1  bot.language                           the flow language: model, loading, checks, templates
    2  bot.store                              the database: connections, tables, migrations, rows
    3  bot.conversation                       the engine, events, replies, router, flow library
    4  bot.cases                              escalation cases, directory, outbox, timers, worker
    5  bot.publishing                         the flow library in the database: versions, reviewed
                                              changes, live reload, preview
    6  bot.ops                                health, readiness, usage reports
    7  bot.runtime                            putting it all together from settings and environment
    8  bot.cli                                the ``policybot`` command line

docs/architecture.md draws the map and says where a new piece of code goes.
"""
