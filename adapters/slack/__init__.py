"""The Slack adapter (slack-bolt): Slack payloads to engine events, engine replies to Block Kit.

Holds no policy logic. ``app`` wires the listeners of each surface (``conversation``, ``cases``,
``modals``, ``home``, ``reviews`` of flow library changes, ``previews`` of them; what they share
is in ``surface``) to one Bolt app, after ``access`` (who may use the bot); ``render`` and
``render_review`` draw Block Kit within ``limits``; ``web_client`` talks to the Web API over
kept-alive connections within Slack's rate limits; ``http_server`` and ``command`` run it,
``notifier`` delivers case and review notifications.
"""
