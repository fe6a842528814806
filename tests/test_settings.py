"""serve settings: flags over environment over defaults; one-line errors naming the flag."""

import argparse
from pathlib import Path

import pytest

from gateway.settings import Settings, SettingsError, add_serve_arguments, resolve_settings


def parse(argv: list[str], environ: dict[str, str] | None = None) -> Settings:
    parser = argparse.ArgumentParser()
    add_serve_arguments(parser)
    return resolve_settings(parser.parse_args(argv), environ or {})


def test_defaults_and_environment(tmp_path: Path) -> None:
    settings = parse([], {"OMNIGATE_UPSTREAM": "http://chat:3000", "OMNIGATE_RULES": str(tmp_path)})
    assert str(settings.upstream) == "http://chat:3000"
    assert (settings.listen.host, settings.listen.port) == ("0.0.0.0", 8080)
    assert settings.admin_listen.port == 9901
    assert settings.workers == 1
    assert settings.upstream_timeout == 30
    assert settings.max_body == 16777216
    assert settings.log_format == "json"
    assert settings.audit_log == "-"
    assert settings.header_timeout == 75
    assert settings.otel is None  # tracing off unless an endpoint is set


def test_otel_endpoint_from_flag_and_environment(tmp_path: Path) -> None:
    environ = {"OMNIGATE_UPSTREAM": "http://chat:3000", "OMNIGATE_RULES": str(tmp_path)}
    assert parse([], {**environ, "OMNIGATE_OTEL": "http://otel:4318"}).otel == "http://otel:4318"
    assert parse(["--otel", "https://c:4318"], environ).otel == "https://c:4318"


def test_header_timeout_from_flag_and_environment(tmp_path: Path) -> None:
    environ = {"OMNIGATE_UPSTREAM": "http://chat:3000", "OMNIGATE_RULES": str(tmp_path)}
    assert parse([], {**environ, "OMNIGATE_HEADER_TIMEOUT": "20"}).header_timeout == 20
    assert parse(["--header-timeout", "2.5"], environ).header_timeout == 2.5


def test_flags_win_over_environment(tmp_path: Path) -> None:
    settings = parse(
        ["--upstream", "https://a.example", "--rules", str(tmp_path), "--listen", "[::1]:81"],
        {"OMNIGATE_UPSTREAM": "http://b.example"},
    )
    assert settings.upstream.host == "a.example"
    assert (settings.listen.host, settings.listen.port) == ("::1", 81)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([], "--upstream: required (or set OMNIGATE_UPSTREAM)"),  # missing upstream
        (["--upstream", "ftp://x"], "--upstream: expected http(s)://host"),  # wrong scheme
        (["--upstream", "http://x", "--listen", "8080"], "--listen: expected HOST:PORT"),
        (["--upstream", "http://x", "--listen", "h:99999"], "--listen: port must be between"),
        (["--upstream", "http://x", "--workers", "0"], "--workers: must be greater than 0"),
        (["--upstream", "http://x", "--workers", "many"], "--workers: expected a whole number"),
        (["--upstream", "http://x", "--upstream-timeout", "-1"], "--upstream-timeout: must be"),
        (["--upstream", "http://x", "--header-timeout", "0"], "--header-timeout: must be"),
        (["--upstream", "http://x", "--max-body", "1e3"], "--max-body: expected a whole number"),
        (["--upstream", "http://x", "--log-format", "xml"], "--log-format: expected one of"),
        (["--upstream", "http://x", "--rules", "/nonexistent/rules"], "--rules: /nonexistent"),
        (["--upstream", "http://x", "--otel", "collector:4318"], "--otel: expected an OTLP"),
        (["--upstream", "http://x", "--otel", "http://[::1"], "--otel: expected an OTLP"),
    ],
)
def test_errors_name_the_flag(argv: list[str], message: str, tmp_path: Path) -> None:
    environ = {} if "--rules" in argv else {"OMNIGATE_RULES": str(tmp_path)}
    with pytest.raises(SettingsError) as error:
        parse(argv, environ)
    assert str(error.value).startswith(message)
    assert "\n" not in str(error.value)
