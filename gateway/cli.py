"""The `omnigate` console script: serve, demo, check, mask, test, token.

Exit status: 0 success, 1 the rules or the checked documents failed, 2 bad usage or settings.
Errors are one line each; never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from gateway import __version__, cli_identities
from gateway.cli_identities import add_identities_parser
from gateway.settings import SettingsError, add_serve_arguments, resolve_settings


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="omnigate", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"omnigate {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the gateway")
    add_serve_arguments(serve)

    demo = commands.add_parser("demo", help="run a demo chat API with the gateway in front of it")
    demo.add_argument("--listen", default="127.0.0.1:8080", help="gateway listener")
    demo.add_argument("--admin-listen", default="127.0.0.1:9901", help="admin listener")
    demo.add_argument("--upstream-listen", default="127.0.0.1:8081", help="demo chat API")
    demo.add_argument("--rules", default=None, help="rules (default: rules/examples)")

    check = commands.add_parser("check", help="validate rule files")
    check.add_argument("paths", nargs="+", metavar="PATH")

    mask = commands.add_parser("mask", help="apply rules to a JSON document offline")
    mask.add_argument("--rules", required=True)
    mask.add_argument("--role", required=True)
    mask.add_argument("--request", required=True, metavar='"METHOD /path"')
    mask.add_argument("--explain", action="store_true", help="print what fired to stderr")
    mask.add_argument("file", nargs="?", default="-", metavar="FILE|-")

    test = commands.add_parser("test", help="run the rule test cases")
    test.add_argument("path", metavar="PATH")

    token = commands.add_parser("token", help="mint an HS256 test token")
    token.add_argument("--role", required=True)
    token.add_argument("--secret-env", default="OMNIGATE_JWT_SECRET", metavar="VAR")
    token.add_argument("--ttl", default="3600", metavar="S")
    token.add_argument("--sub", default="omnigate-cli")
    token.add_argument("--claim", default="role", help="claim that carries the role")
    add_identities_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return _dispatch(args)
    except SettingsError as exc:
        print(f"omnigate {args.command}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "serve":
        from gateway.web_server import serve

        return serve(resolve_settings(args))
    if args.command == "demo":
        from gateway.demo.run import run_demo

        return run_demo(args)
    if args.command == "identities":
        return cli_identities.run(args)
    from gateway import cli_rules

    if args.command == "check":
        return cli_rules.check(args.paths)
    if args.command == "mask":
        return cli_rules.mask(args.rules, args.role, args.request, args.file, args.explain)
    if args.command == "test":
        return cli_rules.run_tests(args.path)
    return cli_rules.token(args.role, args.secret_env, args.ttl, args.sub, args.claim)
