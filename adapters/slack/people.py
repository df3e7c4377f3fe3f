"""Who is clicking: a Slack user id turned into the engine's ``Actor``, and where to DM them.

The only identity the adapter takes from a request is the Slack user id (and team id) that Slack
signs for. Name, email and locale come from ``users.info``, never from the payload: the email is
what the core's directory uses to find the person's line manager, the locale ("cy-GB") what it
starts speaking in (the core alone decides the language; the adapter only passes it on).
Lookups are cached because every click would otherwise cost a Web API call; a failed lookup is
not cached, so a Slack hiccup does not leave someone nameless for the next ten minutes.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.conversation.events import Actor

log = logging.getLogger(__name__)

PLATFORM = "slack"


def actor_key(team_id: str, user_id: str) -> str:
    """The engine's user id for a Slack user: stable across renames and email changes."""
    return f"{PLATFORM}:{team_id}:{user_id}"


def slack_user_of(actor_user_id: str) -> tuple[str, str] | None:
    """(team id, user id) back from an engine user id, None if it is not a Slack one."""
    parts = actor_user_id.split(":")
    if len(parts) == 3 and parts[0] == PLATFORM:
        return parts[1], parts[2]
    return None


LANGUAGES_REMEMBERED = 10_000  # people; beyond that the longest unheard is forgotten (English then)


class SlackPeople:
    """Cached ``users.info``, ``users.lookupByEmail`` and ``conversations.open``."""

    def __init__(self, client: WebClient, *, ttl: float = 600.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.client = client
        self.ttl = ttl
        self.clock = clock
        self._lock = threading.Lock()
        self._actors: dict[tuple[str, str], tuple[float, Actor]] = {}
        self._dms: dict[str, str] = {}
        self._by_email: dict[str, tuple[float, str]] = {}
        self._spoken: dict[str, str] = {}  # Slack user id -> the language of the last reply set

    def actor(self, team_id: str, user_id: str) -> Actor:
        key = (team_id, user_id)
        now = self.clock()
        with self._lock:
            cached = self._actors.get(key)
            if cached is not None and now - cached[0] < self.ttl:
                return cached[1]
        try:
            # include_locale: the person's Slack language ("cy-GB"), from which the core picks its own
            user = self.client.users_info(user=user_id, include_locale=True)["user"]
        except SlackApiError as err:
            log.warning("users.info failed for %s: %s; continuing without name and email", user_id, _error(err))
            return Actor(user_id=actor_key(team_id, user_id), display_name=user_id, platform=PLATFORM)
        except OSError as err:  # timeouts and refused connections
            log.warning("users.info failed for %s: %s; continuing without name and email", user_id, err)
            return Actor(user_id=actor_key(team_id, user_id), display_name=user_id, platform=PLATFORM)
        profile = user.get("profile") or {}
        name = user.get("real_name") or profile.get("real_name") or profile.get("display_name") or user.get("name")
        actor = Actor(
            user_id=actor_key(team_id, user_id),
            display_name=str(name or user_id),
            email=profile.get("email") or None,
            platform=PLATFORM,
            locale=str(user.get("locale") or "") or None,
        )
        with self._lock:
            self._actors[key] = (now, actor)
        return actor

    def remember_language(self, user_id: str, language: str | None) -> None:
        """The language the bot last spoke to someone, for the words it has to say outside a turn
        (an apology when a request kept failing): no database read on a path that is failing."""
        if not language:
            return
        with self._lock:
            self._spoken.pop(user_id, None)
            self._spoken[user_id] = language
            while len(self._spoken) > LANGUAGES_REMEMBERED:
                del self._spoken[next(iter(self._spoken))]

    def language_spoken(self, user_id: str) -> str | None:
        with self._lock:
            return self._spoken.get(user_id)

    def dm_channel(self, user_id: str) -> str:
        """The bot's DM with a person (opened if needed); ids of DMs never change, so cached for good."""
        with self._lock:
            channel = self._dms.get(user_id)
        if channel is not None:
            return channel
        channel = str(self.client.conversations_open(users=user_id)["channel"]["id"])
        with self._lock:
            self._dms[user_id] = channel
        return channel

    def known_dm(self, user_id: str) -> str | None:
        """The DM id if already known (no API call): used where there is no time for one."""
        with self._lock:
            return self._dms.get(user_id)

    def user_by_email(self, email: str) -> str:
        """The Slack user id for a work email (raises SlackApiError ``users_not_found``)."""
        key = email.strip().lower()
        now = self.clock()
        with self._lock:
            cached = self._by_email.get(key)
            if cached is not None and now - cached[0] < self.ttl:
                return cached[1]
        user_id = str(self.client.users_lookupByEmail(email=email.strip())["user"]["id"])
        with self._lock:
            self._by_email[key] = (now, user_id)
        return user_id


def _error(err: SlackApiError) -> str:
    response = err.response
    try:
        return str(response.get("error") or response.status_code)
    except Exception:
        return "unknown error"
