"""The Teams test fixtures (fake connector, a runtime on the fixed test flows, the bot on a socket)."""

from tests.teams.conftest import bot, connector, runtime

__all__ = ["bot", "connector", "runtime"]
