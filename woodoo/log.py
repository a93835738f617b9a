"""Logging, configured in one place: structlog with explicit processors and secret redaction."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable, MutableMapping
from typing import Any, TextIO

import structlog

REDACTED = "***"


class SecretRedactor:
    """A structlog processor that replaces every known secret in every string value."""

    def __init__(self, secrets: Iterable[str]) -> None:
        # Longest first, so a secret containing another is redacted whole.
        self.secrets = sorted({s for s in secrets if len(s) >= 4}, key=len, reverse=True)

    def redact(self, text: str) -> str:
        """`text` with every secret replaced."""
        for value in self.secrets:
            if value in text:
                text = text.replace(value, REDACTED)
        return text

    def __call__(
        self, logger: Any, method: str, event: MutableMapping[str, Any]
    ) -> MutableMapping[str, Any]:
        for key, value in event.items():
            if isinstance(value, str):
                event[key] = self.redact(value)
            elif isinstance(value, BaseException):
                event[key] = self.redact(repr(value))
        return event


class _ShopName:
    """A structlog processor putting `shop=<name>` on every line (threads included, which
    context variables would not reach)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __call__(
        self, logger: Any, method: str, event: MutableMapping[str, Any]
    ) -> MutableMapping[str, Any]:
        event.setdefault("shop", self.name)
        return event


def configure(
    level: str = "info",
    fmt: str = "auto",
    secrets: Iterable[str] = (),
    stream: TextIO | None = None,
    shop: str | None = None,
) -> None:
    """Set up structlog and the standard library's logging (for libraries) to one output;
    `shop` names the shop on every line (several daemons may write to one journal)."""
    stream = stream or sys.stderr
    json_lines = fmt == "json" or (fmt == "auto" and not stream.isatty())
    renderer: Any = (
        structlog.processors.JSONRenderer() if json_lines else structlog.dev.ConsoleRenderer()
    )
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
        SecretRedactor(secrets),
        *([_ShopName(shop)] if shop else []),
    ]
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    handler = logging.StreamHandler(stream)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
            foreign_pre_chain=shared,
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # odoorpc logs every JSON-RPC call at DEBUG with the password in execute_kw's arguments,
    # and urllib3 logs full URLs (OAuth signatures): keep both quiet whatever the level.
    for noisy in ("odoorpc", "urllib3", "apscheduler.executors", "waitress.queue"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def get(name: str = "woodoo", **bound: Any) -> structlog.stdlib.BoundLogger:
    """A logger with `bound` fields on every line."""
    return structlog.get_logger(name).bind(**bound)
