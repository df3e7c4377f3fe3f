"""Slack credentials from the environment, and the log filter that keeps them out of every log line.

Secrets never live in a settings file (files get committed, copied and attached to tickets);
they come from the environment the deployment's secret store fills in. A missing one is named
with where to find it in Slack's app settings, so an IT admin can fix it without reading code.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from bot.errors import SettingsError

ENV_BOT_TOKEN = "SLACK_BOT_TOKEN"
ENV_SIGNING_SECRET = "SLACK_SIGNING_SECRET"
ENV_APP_TOKEN = "SLACK_APP_TOKEN"
ENV_API_URL = "SLACK_API_URL"  # only for tests and proxies; Slack's own address by default

WHERE = {
    ENV_BOT_TOKEN: "Install App -> Bot User OAuth Token (starts with xoxb-)",
    ENV_SIGNING_SECRET: "Basic Information -> App Credentials -> Signing Secret",
    ENV_APP_TOKEN: "Basic Information -> App-Level Tokens, with the connections:write scope (starts with xapp-)",
}

# Anything shaped like a Slack token is masked even when it is not one of ours (a pasted token in a
# payload, a token from another app in an error message).
TOKEN_PATTERN = re.compile(r"\b(xox[abposre]|xapp|xoxe\.xox[bp])-[A-Za-z0-9-]{6,}")
MASK = "[redacted]"
# Slack's legacy verification token travels inside every payload ("token" field); Bolt logs the
# body of a request that fails verification, so it is masked wherever it appears.
PAYLOAD_TOKEN_PATTERNS = (
    re.compile(r"(\btoken=)[^&\s]+"),
    re.compile(r"(%22token%22%3A(?:\+|%20)*%22)[^%&]+", re.IGNORECASE),
    re.compile(r"((?:\\?[\"'])token(?:\\?[\"'])\s*:\s*(?:\\?[\"']))[^\"'\\]+"),
)


@dataclass(frozen=True)
class SlackConfig:
    """The credentials ``policybot serve slack`` needs. ``repr`` never shows them."""

    bot_token: str = field(repr=False)
    signing_secret: str = field(repr=False)
    app_token: str | None = field(default=None, repr=False)
    api_url: str | None = None

    @property
    def socket_mode(self) -> bool:
        return bool(self.app_token)

    @property
    def secrets(self) -> list[str]:
        return [s for s in (self.bot_token, self.signing_secret, self.app_token) if s]

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> SlackConfig:
        env = os.environ if environ is None else environ
        # Installed in several workspaces (SLACK_CLIENT_ID, adapters/slack/installs.py): each
        # workspace's token is in the database, so there is no one SLACK_BOT_TOKEN.
        several = bool(env.get("SLACK_CLIENT_ID", "").strip())
        required = (ENV_SIGNING_SECRET,) if several else (ENV_BOT_TOKEN, ENV_SIGNING_SECRET)
        missing = [name for name in required if not env.get(name, "").strip()]
        if missing:
            lines = [f"  {name}: in your Slack app's settings, {WHERE[name]}" for name in missing]
            raise SettingsError(
                "Slack is not configured: set these environment variables and start again "
                "(docs/slack.md, step 3):\n" + "\n".join(lines)
            )
        bot_token = env.get(ENV_BOT_TOKEN, "").strip()
        if bot_token and not bot_token.startswith("xoxb-"):
            raise SettingsError(
                f"{ENV_BOT_TOKEN} does not look like a bot token (it must start with xoxb-). "
                f"Copy it from {WHERE[ENV_BOT_TOKEN]}."
            )
        app_token = env.get(ENV_APP_TOKEN, "").strip() or None
        if app_token is not None and not app_token.startswith("xapp-"):
            raise SettingsError(
                f"{ENV_APP_TOKEN} does not look like an app-level token (it must start with xapp-). "
                f"Create one under {WHERE[ENV_APP_TOKEN]}, or unset it to run in HTTP mode."
            )
        return cls(
            bot_token=bot_token,
            signing_secret=env[ENV_SIGNING_SECRET].strip(),
            app_token=app_token,
            api_url=env.get(ENV_API_URL, "").strip() or None,
        )


def redact(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        if secret and len(secret) >= 6:
            text = text.replace(secret, MASK)
    text = TOKEN_PATTERN.sub(MASK, text)
    for pattern in PAYLOAD_TOKEN_PATTERNS:
        text = pattern.sub(lambda m: m.group(1) + MASK, text)
    return text


class RedactSecrets(logging.Filter):
    """Masks the configured secrets and anything token-shaped in a record, arguments included.

    Put on handlers (not loggers): a filter on a logger does not see its children's records, a
    filter on the handler sees everything that is about to be written.
    """

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s]

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string must not lose the record
            message = str(record.msg)
        record.msg = redact(message, self.secrets)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text, self.secrets)
        return True


def install_redaction(secrets: Iterable[str], handlers: Iterable[logging.Handler] | None = None) -> RedactSecrets:
    """Add the filter to ``handlers`` (default: every handler of the root logger)."""
    redaction = RedactSecrets(secrets)
    for handler in handlers if handlers is not None else logging.getLogger().handlers:
        handler.addFilter(redaction)
    return redaction
