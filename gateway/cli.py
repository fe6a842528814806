"""The `omnigate` console script: serve, demo, check, mask, test, token, schema, completion.

Exit status: 0 success, 1 the rules or the checked documents failed, 2 bad usage or settings.
Errors go to stderr, one line each; never a traceback. A mistyped flag or command is answered
with that command's usage and a suggestion (`did you mean --upstream?`), exit 2 (SPEC 1).

Adding a command: give it a `_register_NAME(commands)` that declares its parser (with a
`description`, and `help=` on every argument) and sets `handler` to a function taking the parsed
arguments and returning the exit status, and call it from `build_parser`. Import heavy modules
inside the handler, so that `--help` and completion stay fast.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import Any

from gateway import __version__
from gateway.cli_parser import CommandParser, suggest_mistakes
from gateway.settings import SettingsError, add_serve_arguments, resolve_settings

Handler = Callable[[argparse.Namespace], int]
SHELLS = ("bash", "zsh", "tcsh")

# What each `serve` flag means (its env variable and default come from gateway/settings.py).
SERVE_HELP = {
    "--upstream": ("URL", "base URL of the chat API"),
    "--listen": ("HOST:PORT", "client-facing listener"),
    "--admin-listen": ("HOST:PORT", "health, readiness, metrics and /rules listener"),
    "--rules": ("PATH", "a rule file or a folder of *.yaml/*.yml/*.json files, merged"),
    "--workers": ("N|auto", "processes sharing the port; auto = CPU count"),
    "--upstream-timeout": ("S", "seconds to upstream response headers, then 504"),
    "--max-body": ("BYTES", "largest body buffered for masking or stamping"),
    "--log-format": ("{json,text}", "access and audit log format"),
    "--audit-log": ("PATH|-", "where reveal audit events go (- is stdout)"),
    "--otel": (
        "URL",
        "OTLP endpoint: send OpenTelemetry traces there (or OTEL_EXPORTER_OTLP_ENDPOINT)",
    ),
}
SERVE_CHOICES = {"--log-format": ("json", "text")}


def build_parser() -> CommandParser:
    parser = CommandParser(
        prog="omnigate",
        description="PII-masking, identity-stamping reverse proxy for chat and support APIs.",
        epilog="Run `omnigate COMMAND --help` for a command's flags.",
    )
    parser.add_argument("--version", action="version", version=f"omnigate {__version__}")
    commands = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND", parser_class=CommandParser
    )
    _register_serve(commands)
    _register_demo(commands)
    _register_check(commands)
    _register_mask(commands)
    _register_test(commands)
    _register_token(commands)
    _register_schema(commands)
    _register_identities(commands)
    _register_discover(commands)
    _register_completion(commands, parser)
    return parser


def _command(
    commands: Any, name: str, summary: str, description: str, handler: Handler
) -> CommandParser:
    sub: CommandParser = commands.add_parser(name, help=summary, description=description)
    sub.set_defaults(handler=handler)
    return sub


def _register_serve(commands: Any) -> None:
    serve = _command(
        commands,
        "serve",
        "run the gateway",
        "Run the gateway in front of --upstream. Each flag can also be set by its environment "
        "variable; a flag wins over the environment.",
        _serve,
    )
    add_serve_arguments(serve)
    for action in serve._actions:  # described here; declared once in gateway/settings.py
        flag = next((s for s in action.option_strings if s in SERVE_HELP), None)
        if flag is None:
            continue
        metavar, meaning = SERVE_HELP[flag]
        action.metavar = metavar
        action.choices = SERVE_CHOICES.get(flag)
        action.help = f"{meaning} ({action.help})"


def _register_demo(commands: Any) -> None:
    demo = _command(
        commands,
        "demo",
        "run a demo chat API with the gateway in front of it",
        "Start a demo chat API and the gateway in front of it with the shipped example rules, "
        "then print ready-to-paste curl commands with tokens for admin, team_manager and agent. "
        "Ctrl-C stops both.",
        _demo,
    )
    demo.add_argument(
        "--listen", default="127.0.0.1:8080", metavar="HOST:PORT", help="gateway listener"
    )
    demo.add_argument(
        "--admin-listen", default="127.0.0.1:9901", metavar="HOST:PORT", help="admin listener"
    )
    demo.add_argument(
        "--upstream-listen",
        default="127.0.0.1:8081",
        metavar="HOST:PORT",
        help="demo chat API listener",
    )
    demo.add_argument(
        "--rules",
        default=None,
        metavar="PATH|PACK",
        help="rules to put in front of the demo API: a folder, or a shipped pack's name "
        "(examples, chatwoot); default: examples",
    )


def _register_check(commands: Any) -> None:
    check = _command(
        commands,
        "check",
        "validate rule files",
        "Validate rule files. All PATHs (files or folders) are merged into ONE rule set, as "
        "`serve` would load them. Prints one summary line per file and exits 0, or prints every "
        "error as file:line: message on stderr and exits 1.",
        _check,
    )
    check.add_argument("paths", nargs="+", metavar="PATH", help="rule files or folders")


def _register_mask(commands: Any) -> None:
    mask = _command(
        commands,
        "mask",
        "apply rules to a JSON document offline",
        "Apply the rules to a JSON document as ROLE would receive it in answer to REQUEST, and "
        "print the result.",
        _mask,
    )
    mask.add_argument("--rules", required=True, metavar="PATH", help="rule file or folder")
    mask.add_argument("--role", required=True, help="the role to mask for")
    mask.add_argument(
        "--request",
        required=True,
        metavar='"METHOD /path"',
        help="the request the document answers, which selects the routes",
    )
    mask.add_argument(
        "--explain",
        action="store_true",
        help="print to stderr which rules fired where, and how many values each "
        "masked (never the values)",
    )
    mask.add_argument(
        "file", nargs="?", default="-", metavar="FILE|-", help="the JSON document; - reads stdin"
    )


def _register_test(commands: Any) -> None:
    test = _command(
        commands,
        "test",
        "run the rule test cases",
        "Run the rules' tests: cases; print each failure with a diff, then `N passed, N failed`. "
        "Exit 1 if any failed.",
        _test,
    )
    test.add_argument("path", metavar="PATH", help="rule file or folder")


def _register_token(commands: Any) -> None:
    token = _command(
        commands,
        "token",
        "mint an HS256 test token",
        "Mint an HS256 JWT for local trials, signed with the secret in --secret-env.",
        _token,
    )
    token.add_argument("--role", required=True, help="the role the token carries")
    token.add_argument(
        "--secret-env",
        default="OMNIGATE_JWT_SECRET",
        metavar="VAR",
        help="environment variable holding the HS256 secret",
    )
    token.add_argument("--ttl", default="3600", metavar="S", help="lifetime in seconds")
    token.add_argument("--sub", default="omnigate-cli", help="the token's subject")
    token.add_argument(
        "--claim", default="role", help="claim that carries the role (dotted for nested)"
    )


def _register_schema(commands: Any) -> None:
    _command(
        commands,
        "schema",
        "print the rule files' JSON Schema",
        "Print the rule files' JSON Schema (draft 2020-12), for editors: save it and point "
        "`# yaml-language-server: $schema=./schema.json` at it.",
        _schema,
    )


def _register_identities(commands: Any) -> None:
    from gateway.cli_identities import add_identities_parser

    add_identities_parser(commands)


def _register_discover(commands: Any) -> None:
    discover = _command(
        commands,
        "discover",
        "find PII paths in recorded traffic, and what the rules leave in clear",
        "Read recorded traffic (HAR files from a browser's developer tools, or JSON lines of "
        '{"method", "path", "status", "body"}) and report, per route, every JSONPath that held '
        "PII-looking values: kinds, counts, and whether --rules masks them; then print rule "
        "snippets for the rest. Values are never printed. Exit 1 when uncovered PII was found, "
        "2 on bad input.",
        _discover,
    )
    discover.add_argument(
        "--rules", default=None, metavar="PATH", help="rule file or folder to measure coverage of"
    )
    discover.add_argument(
        "files", nargs="+", metavar="FILE", help="HAR files or JSON-lines files of responses"
    )


def _register_completion(commands: Any, root: argparse.ArgumentParser) -> None:
    completion = _command(
        commands,
        "completion",
        "print a shell completion script",
        "Print a completion script for SHELL. bash: "
        "`omnigate completion bash > ~/.local/share/bash-completion/completions/omnigate`; "
        'zsh: `omnigate completion zsh > "${fpath[1]}/_omnigate"`.',
        _completion,
    )
    completion.add_argument(
        "shell", choices=SHELLS, metavar="SHELL", help="one of: " + ", ".join(SHELLS)
    )
    completion.set_defaults(root=root)


def _serve(args: argparse.Namespace) -> int:
    from gateway.web_server import serve

    return serve(resolve_settings(args))


def _demo(args: argparse.Namespace) -> int:
    from gateway.demo.run import run_demo

    return run_demo(args)


def _check(args: argparse.Namespace) -> int:
    from gateway import cli_rules

    return cli_rules.check(args.paths)


def _mask(args: argparse.Namespace) -> int:
    from gateway import cli_rules

    return cli_rules.mask(args.rules, args.role, args.request, args.file, args.explain)


def _test(args: argparse.Namespace) -> int:
    from gateway import cli_rules

    return cli_rules.run_tests(args.path)


def _token(args: argparse.Namespace) -> int:
    from gateway import cli_rules

    return cli_rules.token(args.role, args.secret_env, args.ttl, args.sub, args.claim)


def _schema(args: argparse.Namespace) -> int:
    from gateway.rule_packs import schema_text

    sys.stdout.write(schema_text())
    return 0


def _discover(args: argparse.Namespace) -> int:
    from gateway.discover import discover

    return discover(args.rules, args.files)


def _completion(args: argparse.Namespace) -> int:
    import shtab

    print(shtab.complete(args.root, shell=args.shell))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    suggest_mistakes(parser, argv)
    args = parser.parse_args(argv)
    try:
        handler: Handler = args.handler
        return handler(args)
    except SettingsError as exc:
        print(f"omnigate {args.command}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
