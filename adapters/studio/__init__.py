"""The web studio: the comms team's and managers' browser view of flows, cases and insights.

An adapter like Slack and Teams: it converts HTTP requests into calls on the core (the flow
library, the checks, the engine, the case service, the reports) and renders their results as
server-made HTML and SVG. It decides nothing about advice or cases itself.

- ``command``: ``policybot serve studio``; ``config``: settings from the environment;
- ``app``: the aiohttp application, its middlewares and page set-up;
- ``security``: the encrypted session cookie, CSRF tokens, headers (CSP) and the sign-in rate limit;
- ``oidc``: OpenID Connect sign-in (Authlib) with Entra ID, Sign in with Slack or any issuer;
- ``roles``: who is an author, reviewer, comms officer or manager, and what each may open;
- ``auth_pages``, ``flow_pages``, ``case_pages``, ``insight_pages``, ``edit_pages``: the pages;
- ``svg``: flow diagrams and charts drawn on the server; ``insights``: the figures behind the charts;
- ``preview``: "Try it", a draft walked by the real engine against a throw-away database;
- ``changes``: the seam where change requests (publishing) plug in;
- ``audit``: every studio action written to the store's audit table.
"""
