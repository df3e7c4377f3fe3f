"""The Slack adapter (slack-bolt): Slack payloads to engine events, engine replies to Block Kit.

Holds no policy logic. ``app`` wires the listeners, ``render`` draws Block Kit within ``limits``,
``http_server`` and ``command`` run it, ``notifier`` delivers case notifications.
"""
