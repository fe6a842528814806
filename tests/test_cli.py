"""The omnigate console script, run as a user runs it (a real subprocess)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import jwt
import pytest

from tests.conftest import JWT_SECRET, MINIMAL_RULES

ROOT = Path(__file__).resolve().parents[1]
DEMO_ENV = {
    "OMNIGATE_JWT_SECRET": "demo-jwt-secret-change-me-in-production",
    "OMNIGATE_HASH_KEY": "demo-hash-key",
    "OMNIGATE_ID_SECRET": "demo-id-secret",
    "META_APP_SECRET": "demo-meta-secret",
}

RULES = MINIMAL_RULES + textwrap.dedent(
    """
    routes:
      - name: contact
        match: { path: "/contacts/{id}" }
        response:
          - { path: "$.phone", mask: phone }
          - { path: "$.email", mask: email }
    tests:
      - name: agent sees a masked contact
        role: agent
        request: GET /contacts/1
        upstream: { phone: "+1 415 555 7890", email: "a@b.com" }
        expect: { phone: "XXX-XXX-7890", email: "****@b.com" }
      - name: admin sees it clear
        role: admin
        request: GET /contacts/1
        upstream: { phone: "+1 415 555 7890" }
        expect: { phone: "+1 415 555 7890" }
    """
)


def omnigate(
    *args: str, stdin: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "OMNIGATE_JWT_SECRET": JWT_SECRET, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "gateway", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=full_env,
        cwd=ROOT,
        timeout=60,
    )


@pytest.fixture
def rules(tmp_path: Path) -> Path:
    path = tmp_path / "rules.yaml"
    path.write_text(RULES)
    return path


def test_check_ok(rules: Path) -> None:
    result = omnigate("check", str(rules))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"{rules}: ok (1 routes, 0 webhooks, 2 tests)"


def test_check_examples() -> None:
    result = omnigate("check", "rules/examples", env=DEMO_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert len(result.stdout.splitlines()) == len(list((ROOT / "rules/examples").glob("*.yaml")))


def test_check_reports_every_error_with_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        MINIMAL_RULES
        + "routes:\n"
        + "  - name: a\n    match: { path: /x }\n    response:\n"
        + "      - { path: '$.a', mask: phone, colour: red }\n"
        + "      - { path: '$.b' }\n"
    )
    result = omnigate("check", str(bad))
    assert result.returncode == 1
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert f"{bad}:14: routes[0].response[0]: unknown key 'colour'" in lines
    assert f"{bad}:15: routes[0].response[1]: 'mask' is required" in lines
    assert "Traceback" not in result.stdout + result.stderr


def test_check_reports_compile_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        MINIMAL_RULES
        + "routes:\n  - name: a\n    match: { path: /x }\n    response:\n"
        + "      - { path: '$.a[', mask: phone }\n"
        + "      - { path: '$.b', mask: phone, roles: [boss] }\n"
    )
    result = omnigate("check", str(bad))
    assert result.returncode == 1
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith(f"{bad}:14: ")  # the bad JSONPath's line
    assert (
        lines[1] == f"{bad}:15: routes[0].response[1].roles[0]: unknown role 'boss'"
    )  # every error, not just the first


def test_mask_with_explain(rules: Path) -> None:
    doc = json.dumps({"phone": "+1 (415) 555-7890", "email": "Jane@Example.com", "id": 7})
    result = omnigate(
        "mask",
        "--rules",
        str(rules),
        "--role",
        "agent",
        "--request",
        "GET /contacts/9",
        "--explain",
        "-",
        stdin=doc,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "phone": "XXX-XXX-7890",
        "email": "****@example.com",
        "id": 7,
    }
    assert "contact: $.phone -> phone: 1 value(s) masked" in result.stderr
    assert "7890" not in result.stderr.replace("XXX-XXX-7890", "")
    assert "Jane" not in result.stderr


def test_mask_admin_is_clear(rules: Path, tmp_path: Path) -> None:
    doc = tmp_path / "doc.json"
    doc.write_text('{"phone": "+14155557890"}')
    result = omnigate(
        "mask", "--rules", str(rules), "--role", "admin", "--request", "GET /contacts/1", str(doc)
    )
    assert json.loads(result.stdout) == {"phone": "+14155557890"}


def test_mask_unknown_role_is_usage_error(rules: Path) -> None:
    result = omnigate(
        "mask", "--rules", str(rules), "--role", "boss", "--request", "GET /x", "-", stdin="{}"
    )
    assert result.returncode == 2
    assert (
        result.stderr.strip()
        == "omnigate mask: --role: unknown role 'boss' (known: admin, team_manager, agent)"
    )


def test_rule_tests_pass(rules: Path) -> None:
    result = omnigate("test", str(rules))
    assert result.returncode == 0
    assert result.stdout.strip().splitlines()[-1] == "2 passed, 0 failed"


def test_rule_tests_failures_show_a_diff(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(
        RULES.replace(
            'expect: { phone: "XXX-XXX-7890", email: "****@b.com" }',
            'expect: { phone: "XXX-XXX-0000", email: "****@b.com" }',
        )
    )
    result = omnigate("test", str(path))
    assert result.returncode == 1
    out = result.stdout
    assert "FAIL agent sees a masked contact" in out
    assert '-  "phone": "XXX-XXX-0000"' in out and '+  "phone": "XXX-XXX-7890"' in out
    assert out.strip().splitlines()[-1] == "1 passed, 1 failed"


def test_example_rule_tests_pass() -> None:
    result = omnigate("test", "rules/examples", env=DEMO_ENV)
    assert result.returncode == 0, result.stdout
    assert result.stdout.strip().splitlines()[-1].endswith("passed, 0 failed")


def test_token() -> None:
    result = omnigate("token", "--role", "team_manager", "--ttl", "120")
    assert result.returncode == 0
    claims = jwt.decode(result.stdout.strip(), JWT_SECRET, algorithms=["HS256"])
    assert claims["role"] == "team_manager"
    assert 0 < claims["exp"] - claims["iat"] <= 120


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["token", "--role", "a", "--secret-env", "NOPE_NOT_SET"],
            "omnigate token: --secret-env: environment variable NOPE_NOT_SET is not set",
        ),
        (
            ["token", "--role", "a", "--ttl", "soon"],
            "omnigate token: --ttl: expected a whole number of seconds, got 'soon'",
        ),
        (["serve"], "omnigate serve: --upstream: required (or set OMNIGATE_UPSTREAM)"),
        (
            ["serve", "--upstream", "http://x", "--workers", "-3", "--rules", "rules/examples"],
            "omnigate serve: --workers: must be greater than 0, got -3",
        ),
    ],
)
def test_usage_errors_are_one_line_exit_2(args: list[Any], message: str) -> None:
    env = {"OMNIGATE_UPSTREAM": ""}
    result = omnigate(*args, env=env)
    assert result.returncode == 2
    assert result.stderr.strip() == message


def test_serve_refuses_the_pure_python_parser() -> None:
    result = omnigate(
        "serve",
        "--upstream",
        "http://127.0.0.1:9",
        "--rules",
        "rules/examples",
        env={**DEMO_ENV, "AIOHTTP_NO_EXTENSIONS": "1"},
    )
    assert result.returncode == 2
    assert "C HTTP parser" in result.stderr
    assert "Traceback" not in result.stderr


def test_serve_with_bad_rules_exits_1_with_locations(tmp_path: Path) -> None:
    bad = tmp_path / "r.yaml"
    bad.write_text("version: 1\nroles: { agent: { masking: maybe } }\n")
    result = omnigate("serve", "--upstream", "http://127.0.0.1:9", "--rules", str(bad))
    assert result.returncode == 1
    # SPEC 6: in json log format (the default) start-up errors are JSON lines too
    lines = [json.loads(line) for line in result.stderr.splitlines()]
    assert lines[0]["level"] == "error"
    assert lines[0]["event"] == "rules_invalid"
    assert lines[0]["message"].startswith(f"{bad}:2:")
    assert "Traceback" not in result.stderr


def test_serve_with_bad_rules_in_text_log_format_says_level_and_location(tmp_path: Path) -> None:
    bad = tmp_path / "r.yaml"
    bad.write_text("version: 1\nroles: { agent: { masking: maybe } }\n")
    result = omnigate(
        "serve", "--upstream", "http://x", "--rules", str(bad), "--log-format", "text"
    )
    assert result.returncode == 1
    assert " level=error event=rules_invalid " in result.stderr
    assert f'message="{bad}:2: ' in result.stderr


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        # a webhook path needs no token: it must not also serve a masked route
        (
            "routes:\n  - name: hooks\n    match: { path: '/webhooks/**' }\n"
            "    response: [ { path: '$.a', mask: phone } ]\n"
            "webhooks:\n  - { channel: sendgrid, path: /webhooks/email }\n",
            "webhooks[0].path: also matched by route 'hooks', which has response rules",
        ),
        # a rule that only lists unmasked roles would silently never apply
        (
            "routes:\n  - name: r\n    match: { path: /r }\n"
            "    response: [ { path: '$.a', mask: phone, roles: [admin] } ]\n",
            "routes[0].response[0].roles: lists only roles with masking: false",
        ),
    ],
)
def test_rules_that_could_leak_are_load_errors(tmp_path: Path, extra: str, message: str) -> None:
    path = tmp_path / "r.yaml"
    path.write_text(MINIMAL_RULES + "omnichannel: { id_secret_env: OMNIGATE_ID_SECRET }\n" + extra)
    result = omnigate("check", str(path), env={"OMNIGATE_ID_SECRET": "s"})
    assert result.returncode == 1
    assert message in result.stderr


def test_mask_treats_a_bare_string_as_chat_text(rules: Path) -> None:
    result = omnigate(
        "mask",
        "--rules",
        str(rules),
        "--role",
        "agent",
        "--request",
        "GET /contacts/1",
        "-",
        stdin='"call +1 415 555 7890"',
    )
    assert json.loads(result.stdout) == "call XXX-XXX-7890"


def test_serve_on_a_busy_port_is_one_line_exit_2(rules: Path) -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = omnigate(
            "serve",
            "--upstream",
            "http://127.0.0.1:9",
            "--rules",
            str(rules),
            "--listen",
            f"127.0.0.1:{port}",
            "--admin-listen",
            "127.0.0.1:0",
        )
    assert result.returncode == 2
    # once the settings are valid, even a start-up error is a line in the log format (JSON)
    (line,) = [json.loads(line) for line in result.stderr.splitlines()]
    assert line["level"] == "error"
    assert line["message"].startswith(
        f"omnigate serve: --listen: cannot listen on 127.0.0.1:{port}"
    )
    assert "Traceback" not in result.stderr


def test_serve_with_an_unwritable_audit_log_is_one_line_exit_2(rules: Path) -> None:
    result = omnigate(
        "serve",
        "--upstream",
        "http://127.0.0.1:9",
        "--rules",
        str(rules),
        "--listen",
        "127.0.0.1:0",
        "--admin-listen",
        "127.0.0.1:0",
        "--audit-log",
        "/nonexistent/dir/audit.log",
    )
    assert result.returncode == 2
    (line,) = [json.loads(line) for line in result.stderr.splitlines()]
    assert (line["level"], line["event"]) == ("error", "settings_error")
    assert line["message"] == (
        "omnigate serve: --audit-log: cannot open /nonexistent/dir/audit.log: No such file or directory"
    )


@pytest.mark.parametrize("path", ["/hooks//wa", "/hooks/%7Ewa", "/hooks/wa?x=1"])
def test_webhook_paths_must_be_canonical(tmp_path: Path, path: str) -> None:
    rules = tmp_path / "r.yaml"
    rules.write_text(
        MINIMAL_RULES
        + "omnichannel: { id_secret_env: OMNIGATE_ID_SECRET }\n"
        + f"webhooks:\n  - {{ channel: sendgrid, path: '{path}' }}\n"
    )
    result = omnigate("check", str(rules), env={"OMNIGATE_ID_SECRET": "s"})
    assert result.returncode == 1
    assert "webhooks[0].path" in result.stderr


def test_check_merges_its_arguments_as_one_rule_set(tmp_path: Path) -> None:
    # roles in one fragment, routes that name them in another: valid only together
    base = tmp_path / "a.yaml"
    base.write_text(MINIMAL_RULES)
    routes = tmp_path / "b.yaml"
    routes.write_text(
        "version: 1\nroutes:\n  - name: r\n    match: { path: /r }\n"
        "    response: [ { path: '$.a', mask: phone, roles: [agent] } ]\n"
    )
    result = omnigate("check", str(base), str(routes))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        f"{base}: ok (0 routes, 0 webhooks, 0 tests)",
        f"{routes}: ok (1 routes, 0 webhooks, 0 tests)",
    ]


def test_check_reports_a_key_defined_in_two_arguments(tmp_path: Path) -> None:
    first, second = tmp_path / "a.yaml", tmp_path / "b.yaml"
    first.write_text(MINIMAL_RULES)
    second.write_text("version: 1\ndefault_role: admin\n")
    result = omnigate("check", str(first), str(second))
    assert result.returncode == 1
    assert "default_role" in result.stderr and str(second) in result.stderr


@pytest.mark.parametrize(
    ("args", "usage", "message"),
    [
        # a mistyped flag: the subcommand's usage, and the flag it resembles
        (
            ["serve", "--upstrem", "http://x"],
            "usage: omnigate serve",
            "omnigate serve: error: unknown flag --upstrem (did you mean --upstream?)",
        ),
        # the same with --flag=value
        (
            ["mask", "--rule=r.yaml", "--role", "a", "--request", "GET /"],
            "usage: omnigate mask",
            "omnigate mask: error: unknown flag --rule (did you mean --rules?)",
        ),
        # a mistyped command: the top-level usage, and the command it resembles
        (["chek", "r.yaml"], "usage: omnigate ", "unknown command 'chek' (did you mean check?)"),
        # a single dash instead of two
        (
            ["serve", "-upstream", "http://x"],
            "usage: omnigate serve",
            "unknown flag -upstream (did you mean --upstream?)",
        ),
        # nothing close: no suggestion, still exit 2
        (["token", "--zzz"], "usage: omnigate token", "omnigate token: error: unknown flag --zzz"),
        # a bad choice names the choices
        (
            ["serve", "--log-format", "yaml"],
            "usage: omnigate serve",
            "invalid choice: 'yaml' (choose from 'json', 'text')",
        ),
    ],
)
def test_usage_mistakes_get_the_command_usage_and_a_suggestion(
    args: list[str], usage: str, message: str
) -> None:
    result = omnigate(*args)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith(usage)
    assert message in result.stderr.splitlines()[-1]
    if "zzz" in message:
        assert "did you mean" not in result.stderr


def test_a_value_after_double_dash_is_not_taken_for_a_flag(rules: Path) -> None:
    result = omnigate("check", "--", str(rules))
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        # descriptions, the env variable and the default of each serve flag, and choices
        ("serve", ["base URL of the chat API", "OMNIGATE_UPSTREAM", "{json,text}", "0.0.0.0:8080"]),
        ("check", ["merged into ONE rule set", "rule files or folders"]),
        ("token", ["(default: 3600)", "OMNIGATE_JWT_SECRET"]),
        ("completion", ["bash", "zsh"]),
    ],
)
def test_subcommand_help_describes_flags(command: str, expected: list[str]) -> None:
    result = omnigate(command, "--help")
    assert result.returncode == 0
    text = " ".join(result.stdout.split())
    for phrase in expected:
        assert phrase in text
    assert "(default: None)" not in text


def test_schema_prints_the_shipped_schema() -> None:
    result = omnigate("schema")
    assert result.returncode == 0
    assert json.loads(result.stdout) == json.loads(
        (ROOT / "gateway" / "rules_schema.json").read_text()
    )


def test_rules_folder_holds_only_rule_files() -> None:
    # SPEC 3: the default `--rules rules/` of a checkout loads; no schema.json sits among them
    top = [p.name for p in (ROOT / "rules").iterdir() if p.is_file() or p.is_symlink()]
    assert top and all(name.endswith((".yaml", ".yml")) for name in top)
    result = omnigate("check", "rules/")
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("shell", ["bash", "zsh"])
def test_completion_scripts_name_every_command(shell: str) -> None:
    result = omnigate("completion", shell)
    assert result.returncode == 0
    for command in ("serve", "demo", "check", "mask", "test", "token", "schema"):
        assert command in result.stdout
    assert "--upstream" in result.stdout


def test_serve_in_a_checkout_loads_the_default_rules_folder() -> None:
    import socket
    import time
    import urllib.request

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        admin_port = probe.getsockname()[1]
    env = {**os.environ, "OMNIGATE_JWT_SECRET": JWT_SECRET, "OMNIGATE_RULES": ""}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gateway",
            "serve",
            "--upstream",
            "http://127.0.0.1:9",
            "--listen",
            "127.0.0.1:0",
            "--admin-listen",
            f"127.0.0.1:{admin_port}",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        rules = None
        for _ in range(200):
            if process.poll() is not None:
                break
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{admin_port}/rules", timeout=1) as r:
                    rules = json.loads(r.read())
                break
            except OSError:
                time.sleep(0.05)
        assert rules is not None, process.stderr.read() if process.stderr else ""
        assert rules["files"] == ["rules/rules.yaml"]
    finally:
        process.terminate()
        process.wait(timeout=30)
