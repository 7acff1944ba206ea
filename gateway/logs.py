"""Logging for every long-running command: text for people, JSON lines for machines.

:func:`configure` gives the root logger one handler on standard error, so the gateway's own
loggers (``a6gw.<part>``), faust's, aiokafka's and aiohttp's all write through it:

- ``text``: ``<time> <LEVEL> <logger>: <message>`` and then the record's structured fields
  as ``key=value``;
- ``json``: one JSON object per line (RFC 8259), with ``time`` (RFC 3339, UTC, in
  milliseconds), ``level``, ``logger``, ``message``, ``pid``, the structured fields a call
  passed with ``extra=`` as members of their own, and ``exception`` (the traceback) when
  there is one.

Either way the line passes :func:`gateway.redaction.redact` last. Third-party loggers are
held at WARNING (aiokafka, the HTTP clients, PostgreSQL's driver) or at most INFO (faust
and mode, which at DEBUG log every event), so that ``--log-level debug`` shows the
gateway's own detail, not the libraries' wire traffic. See ``docs/logging.md``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import sys
import time
from typing import IO, Any, Final

from gateway.errors import ConfigError
from gateway.redaction import MASK, redact, redact_known, redact_patterns

FORMATS: Final = ("text", "json")
LEVELS: Final = ("debug", "info", "warning", "error")
FORMAT_ENV: Final = "A6GW_LOG_FORMAT"
LEVEL_ENV: Final = "A6GW_LOG_LEVEL"

#: logger -> the most detailed level it may log at, whatever ``--log-level`` says
LIBRARY_FLOORS: Final = {
    "aiokafka": logging.WARNING,  # every retry and rebalance step; its DEBUG is wire traffic
    "kafka": logging.WARNING,
    "httpx": logging.WARNING,  # logs each request's full URL at INFO
    "httpcore": logging.WARNING,
    "psycopg": logging.WARNING,
    "asyncio": logging.WARNING,
    "faust": logging.INFO,  # its DEBUG logs every event and table write
    "mode": logging.INFO,
    "aiohttp": logging.INFO,
    # replaced by the gateway's own access log (gateway.http.access_log): aiohttp's logs
    # the request line with its query string
    "aiohttp.access": logging.CRITICAL + 1,
}

# The attributes every LogRecord has: anything else was passed with ``extra=``.
_STANDARD: Final = frozenset(
    vars(logging.LogRecord("", 0, "", 0, "", None, None)).keys() | {"message", "asctime"}
)


#: the last second formatted and its text (one tuple: threads read it whole)
_second: tuple[int, str] = (-1, "")


def utc_time(created: float) -> str:
    """RFC 3339 in UTC with milliseconds, e.g. ``2026-12-04T14:25:01.123Z``."""
    global _second  # noqa: PLW0603 - a cache of one second's text
    whole = int(created)
    second = _second
    if second[0] != whole:
        second = _second = (whole, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole)))
    return f"{second[1]}.{int((created - whole) * 1000):03d}Z"


def fields_of(record: logging.LogRecord) -> dict[str, Any]:
    """The structured fields a logging call passed with ``extra=``."""
    return {k: v for k, v in vars(record).items() if k not in _STANDARD and k[0] != "_"}


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line (see the module)."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": utc_time(record.created),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "pid": record.process,
        }
        for key, value in fields_of(record).items():
            line.setdefault(key, value)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exception"] = record.exc_text
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        text = _dumps(line)
        if _suspect(text):  # the patterns member by member: a mask must not break the JSON
            text = _dumps(_scrubbed(line))
        return redact_known(text)


class TextFormatter(logging.Formatter):
    """``<time> <LEVEL> <logger>: <message> key=value ...`` (see the module)."""

    def format(self, record: logging.LogRecord) -> str:
        parts = [utc_time(record.created), record.levelname, f"{record.name}:"]
        parts.append(record.getMessage())
        fields = fields_of(record)
        if fields:
            if _suspect(" ".join(fields)):
                fields = _scrubbed(fields)
            parts += [f"{k}={_plain(v)}" for k, v in fields.items()]
        text = " ".join(parts)
        if record.exc_info:
            text += "\n" + self.formatException(record.exc_info)
        if record.stack_info:
            text += "\n" + self.formatStack(record.stack_info)
        return redact(text)


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str, separators=(",", ":"))


#: a line holding none of these needs no pattern (nor any member masked by its name)
_TRIGGERS = ("private", "bearer", "password", "secret", "token")


def _suspect(text: str) -> bool:
    lowered = text.lower()
    return any(t in lowered for t in _TRIGGERS)


def _secret_name(name: str) -> bool:
    return name.lower().endswith(("password", "secret", "token", "private_key"))


def _scrubbed(value: Any) -> Any:
    """``value`` with the patterns of :mod:`gateway.redaction` masked in every string and
    the values of members named like a secret (``password``, ``*_token``, ...) masked
    whole; the known values are masked in the whole line after."""
    if isinstance(value, str):
        return redact_patterns(value)
    if isinstance(value, dict):
        return {k: MASK if _secret_name(str(k)) else _scrubbed(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_scrubbed(v) for v in value]
    return value


def _plain(value: Any) -> str:
    """A field's value in a text line: a string as it is when it has no blank, quote or
    ``=``; anything else as JSON."""
    if type(value) is str and (value.isalnum() or (value and _BARE.match(value))):
        return value  # isalnum: no blank, quote or "=" without the pattern (most names)
    if type(value) is int:
        return str(value)
    if type(value) is list and not value:  # a decision's codes, most often
        return "[]"
    return json.dumps(value, ensure_ascii=False, default=str)


_BARE = re.compile(r"[^\s=\"']+\Z")


def level_number(level: str) -> int:
    """``debug`` ... ``error`` as the logging module's number."""
    return int(logging.getLevelName(level.upper()))


def configure(fmt: str, level: str, *, stream: IO[str] | None = None) -> logging.Handler:
    """Send every logger's records to one handler on ``stream`` (standard error) in ``fmt``
    (``text`` or ``json``) from ``level`` (``debug``, ``info``, ``warning``, ``error``) up.
    Replaces the root logger's handlers; call it once, before the command's work starts.

    :raises ConfigError: (A6-CFG-001) for an unknown format or level.
    """
    if fmt not in FORMATS:
        raise ConfigError(f"log format {fmt!r}: want one of {', '.join(FORMATS)}")
    if level.lower() not in LEVELS:
        raise ConfigError(f"log level {level!r}: want one of {', '.join(LEVELS)}")
    number = level_number(level)
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(number)
    for name, floor in LIBRARY_FLOORS.items():
        logging.getLogger(name).setLevel(max(number, floor))
    return handler


def add_arguments(p: argparse.ArgumentParser) -> None:
    """``--log-format {text,json}`` and ``--log-level {debug,info,warning,error}``, their
    defaults from ``$A6GW_LOG_FORMAT`` and ``$A6GW_LOG_LEVEL``, else text and info."""
    p.add_argument(
        "--log-format",
        choices=FORMATS,
        help=f"log lines as text or as JSON objects, one a line (default: ${FORMAT_ENV}, "
        "else text; see docs/logging.md)",
    )
    p.add_argument(
        "--log-level",
        choices=LEVELS,
        help=f"log from this level up (default: ${LEVEL_ENV}, else info)",
    )


def chosen(args: argparse.Namespace) -> tuple[str, str]:
    """The format and level ``args`` (from :func:`add_arguments`) and the environment ask
    for: a flag wins over the variable.

    :raises ConfigError: (A6-CFG-001) when a variable holds an unknown value.
    """
    fmt = getattr(args, "log_format", None) or _env(FORMAT_ENV, FORMATS) or "text"
    level = getattr(args, "log_level", None) or _env(LEVEL_ENV, LEVELS) or "info"
    return fmt, level


def _env(name: str, allowed: tuple[str, ...]) -> str | None:
    value = os.environ.get(name, "").strip().lower()
    if value and value not in allowed:
        raise ConfigError(f"${name}={value!r}: want one of {', '.join(allowed)}")
    return value or None


def configure_from(args: argparse.Namespace) -> tuple[str, str]:
    """:func:`configure` with what ``args`` and the environment choose; returns the choice."""
    fmt, level = chosen(args)
    configure(fmt, level)
    return fmt, level
