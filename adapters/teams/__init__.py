"""Microsoft Teams adapter: Bot Framework activities in, Adaptive Cards out, proactive escalations.

Every import of the Bot Framework SDK (botbuilder-*, botframework-*) lives in this package and
nowhere else, because that SDK is archived upstream: moving to its successor must touch only
``adapters/teams/``. The core (``bot/``) never sees an Activity.
"""
