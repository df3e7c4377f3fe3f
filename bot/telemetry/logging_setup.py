"""Structured logs: one JSON object per line, each carrying the correlation id of its request.

Why JSON: with two or more replicas behind a load balancer, logs are read by a collector (Loki,
CloudWatch, Azure Monitor, journald) rather than by eye; a JSON line keeps its fields
(``correlation_id``, ``logger``, ``level``, extras) searchable instead of buried in text.

Why a correlation id: one click in Slack becomes an HTTP request, a background job on a worker
thread, an engine turn and perhaps a case and an outbox row. The HTTP adapter starts a
correlation (reusing the load balancer's ``X-Request-Id`` when there is one) and every log line
written while handling it, on whichever thread, carries the same id. ``carry`` moves the id
onto another thread, because a thread pool does not copy context variables by itself.

Secrets never reach the output: values given to ``configure_logging(secrets=...)`` and anything
shaped like a Slack token, a bearer token or a password in a URL are masked in the message and
in the formatted exception.
"""

from __future__ import annotations

import contextvars
import json
import logging
import os
import re
import sys
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import IO, Any, ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")

_correlation: contextvars.ContextVar[str | None] = contextvars.ContextVar("policybot_correlation_id", default=None)

CORRELATION_HEADER = "X-Request-Id"
MASK = "***"
# Shapes of secrets that may turn up in library messages (URLs with passwords, tokens in errors),
# with what replaces them (the part before the secret is kept, so the line still makes sense).
SECRET_SHAPES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"xox[abposer]-[A-Za-z0-9-]+"), MASK),  # Slack bot/user/config tokens
    (re.compile(r"xapp-[A-Za-z0-9-]+"), MASK),  # Slack app-level tokens
    (re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]{8,}"), r"\1" + MASK),
    (re.compile(r"(://[^:/@\s]+:)[^@\s]+(@)"), r"\1" + MASK + r"\2"),  # scheme://user:password@host
    (
        re.compile(r"(?i)((?:client_secret|signing_secret|password|app_password)[\"']?\s*[=:]\s*[\"']?)[^\s\"'&,]+"),
        r"\1" + MASK,
    ),
)
# Attributes every LogRecord has; anything else on a record came from ``extra=`` and is logged.
_STANDARD = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "correlation_id"}


def new_correlation_id() -> str:
    return uuid.uuid4().hex[:16]


def current_correlation_id() -> str | None:
    return _correlation.get()


_ACCEPTABLE_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")


@contextmanager
def correlation(value: str | None = None) -> Iterator[str]:
    """Log lines inside this block carry ``value`` (a new id when None or not a sensible id)."""
    cid = value if value and _ACCEPTABLE_ID.fullmatch(value) else new_correlation_id()
    token = _correlation.set(cid)
    try:
        yield cid
    finally:
        _correlation.reset(token)


def carry[**P, R](fn: Callable[P, R]) -> Callable[P, R]:
    """``fn`` wrapped to run with the caller's context (correlation id) on another thread."""
    context = contextvars.copy_context()

    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        return context.copy().run(fn, *args, **kwargs)

    return run


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    for secret in secrets:
        if secret and len(secret) >= 6:
            text = text.replace(secret, MASK)
    for shape, replacement in SECRET_SHAPES:
        text = shape.sub(replacement, text)
    return text


class CorrelationFilter(logging.Filter):
    """Puts ``correlation_id`` on every record, so text formats can show it as well."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "correlation_id", None) is None:
            record.correlation_id = current_correlation_id()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, message, correlation_id, extras, exception."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = tuple(s for s in secrets if s)

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage(), self.secrets),
            "correlation_id": getattr(record, "correlation_id", None) or current_correlation_id(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = (
                    value
                    if isinstance(value, (int, float, bool)) or value is None
                    else redact(str(value), self.secrets)
                )
        if record.exc_info or record.exc_text:  # exc_text: already formatted (and masked) by a filter
            entry["exception"] = redact(record.exc_text or self.formatException(record.exc_info), self.secrets)  # type: ignore[arg-type]
        return json.dumps(entry, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """The same fields as one human-readable line (``POLICYBOT_LOG_FORMAT=text``), secrets masked."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s [%(correlation_id)s]: %(message)s")
        self.secrets = tuple(s for s in secrets if s)

    def format(self, record: logging.LogRecord) -> str:
        if not hasattr(record, "correlation_id"):
            record.correlation_id = current_correlation_id()
        return redact(super().format(record), self.secrets)


def configure_logging(
    level: str | None = None,
    fmt: str | None = None,
    *,
    secrets: Iterable[str] = (),
    stream: IO[str] | None = None,
) -> logging.Handler:
    """One handler on the root logger: JSON (default) or text, at ``level``; returns the handler.

    ``level`` defaults to $POLICYBOT_LOG_LEVEL or INFO, ``fmt`` to $POLICYBOT_LOG_FORMAT or json.
    Alembic's and aiohttp's access chatter is kept at WARNING; the store still logs each upgrade.
    """
    level = (level or os.environ.get("POLICYBOT_LOG_LEVEL") or "INFO").upper()
    fmt = (fmt or os.environ.get("POLICYBOT_LOG_FORMAT") or "json").lower()
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter(secrets) if fmt == "json" else TextFormatter(secrets))
    handler.addFilter(CorrelationFilter())
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level)
    for noisy in ("alembic", "aiohttp.access"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
    return handler
