"""Layer 3, conversations: one event in, replies out.

Owns the engine (load, step, save), transport-neutral events and replies, the compiled state
machines shared by every conversation, the router that picks a flow from a person's words, the
flow library, the presenter that turns a state into reply views, every path through a flow, the
scenario runner, and the escalation port (CaseOpener, PeopleDirectory) that bot.cases implements.

May import: bot.language, bot.store, and layer 0. Never bot.cases: cases plug in through the port.
"""
