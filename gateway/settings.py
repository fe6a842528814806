"""`omnigate serve` settings: flags, then environment, then defaults; validated once at start.

A wrong value is a `SettingsError` whose message is one line naming the flag and the problem; the
CLI prints it and exits with status 2.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import yarl

DEFAULT_MAX_BODY = 16 * 1024 * 1024


class SettingsError(Exception):
    """One line naming the offending flag and what is wrong with its value."""


@dataclass(frozen=True)
class Listen:
    host: str
    port: int

    def __str__(self) -> str:
        return f"{self.host}:{self.port}"


@dataclass(frozen=True)
class Settings:
    upstream: yarl.URL
    listen: Listen
    admin_listen: Listen
    rules: Path
    workers: int
    upstream_timeout: float
    max_body: int
    log_format: str
    audit_log: str
    # SECURITY: a client gets this long to send a complete request head (and a kept-alive
    # connection may idle this long), so slow clients cannot hold connections forever.
    header_timeout: float = 75.0
    # OpenTelemetry: the OTLP endpoint's base URL (SPEC 6); None leaves it to the standard
    # OTEL_EXPORTER_OTLP_ENDPOINT variable, and with neither set tracing is off.
    otel: str | None = None


# flag, environment variable, default (None = required)
_TABLE: tuple[tuple[str, str, str | None], ...] = (
    ("--upstream", "OMNIGATE_UPSTREAM", None),
    ("--listen", "OMNIGATE_LISTEN", "0.0.0.0:8080"),
    ("--admin-listen", "OMNIGATE_ADMIN_LISTEN", "0.0.0.0:9901"),
    ("--rules", "OMNIGATE_RULES", "rules/"),
    ("--workers", "OMNIGATE_WORKERS", "1"),
    ("--upstream-timeout", "OMNIGATE_UPSTREAM_TIMEOUT", "30"),
    ("--max-body", "OMNIGATE_MAX_BODY", str(DEFAULT_MAX_BODY)),
    ("--log-format", "OMNIGATE_LOG_FORMAT", "json"),
    ("--audit-log", "OMNIGATE_AUDIT_LOG", "-"),
    ("--header-timeout", "OMNIGATE_HEADER_TIMEOUT", "75"),
    ("--otel", "OMNIGATE_OTEL", ""),
)


def add_serve_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the flags; values stay strings so that validation happens in one place."""
    for flag, env, default in _TABLE:
        shown = "required" if default is None else f"default {default or 'unset'}"
        parser.add_argument(flag, default=None, help=f"env {env}; {shown}")


def resolve_settings(args: argparse.Namespace, environ: Mapping[str, str] = os.environ) -> Settings:
    raw: dict[str, str] = {}
    for flag, env, default in _TABLE:
        value = getattr(args, flag[2:].replace("-", "_"), None)
        if value is None:
            value = environ.get(env) or default
        if value is None:
            raise SettingsError(f"{flag}: required (or set {env})")
        raw[flag] = value
    return Settings(
        upstream=_parse_upstream(raw["--upstream"]),
        listen=parse_listen("--listen", raw["--listen"]),
        admin_listen=parse_listen("--admin-listen", raw["--admin-listen"]),
        rules=_parse_rules(raw["--rules"]),
        workers=_parse_workers(raw["--workers"]),
        upstream_timeout=_parse_positive_float("--upstream-timeout", raw["--upstream-timeout"]),
        max_body=_parse_positive_int("--max-body", raw["--max-body"]),
        log_format=_parse_choice("--log-format", raw["--log-format"], ("json", "text")),
        audit_log=raw["--audit-log"],
        header_timeout=_parse_positive_float("--header-timeout", raw["--header-timeout"]),
        otel=_parse_otel(raw["--otel"]),
    )


def _parse_upstream(value: str) -> yarl.URL:
    try:
        url = yarl.URL(value)
    except ValueError as exc:
        raise SettingsError(f"--upstream: not a URL: {exc}") from None
    if url.scheme not in ("http", "https") or not url.host:
        raise SettingsError(f"--upstream: expected http(s)://host[:port][/base], got {value!r}")
    if url.query_string or url.fragment:
        raise SettingsError("--upstream: must not carry a query string or fragment")
    return url


def _parse_otel(value: str) -> str | None:
    if not value:
        return None
    try:
        url = yarl.URL(value)
    except ValueError:
        url = yarl.URL()
    if url.scheme not in ("http", "https") or not url.host:
        raise SettingsError(f"--otel: expected an OTLP endpoint http(s)://host:port, got {value!r}")
    return value


def parse_listen(flag: str, value: str) -> Listen:
    host, sep, port_text = value.rpartition(":")
    if not sep or not host:
        raise SettingsError(f"{flag}: expected HOST:PORT, got {value!r}")
    host = host.strip("[]")  # [::1]:8080
    try:
        port = int(port_text)
    except ValueError:
        raise SettingsError(f"{flag}: port must be a number, got {port_text!r}") from None
    if not 0 <= port <= 65535:
        raise SettingsError(f"{flag}: port must be between 0 and 65535, got {port}")
    return Listen(host, port)


def _parse_rules(value: str) -> Path:
    path = Path(value)
    if not path.exists():
        raise SettingsError(f"--rules: {value} does not exist")
    return path


def _parse_workers(value: str) -> int:
    if value == "auto":
        return os.cpu_count() or 1
    workers = _parse_positive_int("--workers", value)
    if workers > 256:
        raise SettingsError(f"--workers: at most 256, got {workers}")
    return workers


def _parse_positive_int(flag: str, value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise SettingsError(f"{flag}: expected a whole number, got {value!r}") from None
    if number <= 0:
        raise SettingsError(f"{flag}: must be greater than 0, got {number}")
    return number


def _parse_positive_float(flag: str, value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise SettingsError(f"{flag}: expected a number of seconds, got {value!r}") from None
    if not number > 0 or number == float("inf"):
        raise SettingsError(f"{flag}: must be a positive number of seconds, got {value!r}")
    return number


def _parse_choice(flag: str, value: str, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise SettingsError(f"{flag}: expected one of {', '.join(choices)}, got {value!r}")
    return value
