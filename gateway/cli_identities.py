"""`omnigate identities show|link|unlink`: read and edit the identity-linking store (SPEC 4.1).

The store is `--store URL`, else the one the rules at `--rules` (default `rules/`) configure.
Each command prints the resulting cluster as the admin listener answers it:
`{"id": current id, "members": [...], "aliases": [...]}`. Exit 0; 1 when the store cannot be
reached; 2 for bad usage (an argument that is not an omnichannel id, no store configured).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from typing import Any

import orjson

from gateway.errors import ConfigError
from gateway.identity.clusters import Cluster, is_omni_id
from gateway.identity.linker import Linker, StoreUnavailable
from gateway.identity.linking import Linking, check_store_url
from gateway.rules_source import RuleLoadError, load_rules


def add_identities_parser(commands: Any) -> None:
    """The `identities` subcommand, added to the main parser's subparsers."""
    parser = commands.add_parser(
        "identities",
        help="show, link or unlink linked identities",
        description="Read and edit the identity-linking store (SPEC 4.1): the store comes from "
        "--store URL, else from the rules at --rules.",
    )
    parser.set_defaults(handler=run)
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    show = actions.add_parser("show", help="the cluster of an id")
    show.add_argument("ids", nargs=1, metavar="ID")
    link = actions.add_parser("link", help="link ids into one customer")
    link.add_argument("ids", nargs="+", metavar="ID")
    unlink = actions.add_parser("unlink", help="split an id off its cluster")
    unlink.add_argument("ids", nargs=1, metavar="ID")
    for action in (show, link, unlink):
        action.add_argument("--store", default=None, metavar="URL", help="the store to use")
        action.add_argument("--rules", default="rules/", help="rules naming the store")


def run(args: argparse.Namespace) -> int:
    try:
        url = _store_url(args.store, args.rules)
    except _UsageError as exc:
        print(f"omnigate identities: {exc}", file=sys.stderr)
        return 2
    ids: list[str] = args.ids
    bad = [index + 1 for index, omni_id in enumerate(ids) if not is_omni_id(omni_id)]
    if bad:
        # PII: the arguments are never echoed: one could be a phone number or an address.
        where = ", ".join(map(str, bad))
        print(f"omnigate identities: argument {where} is not an omnichannel id", file=sys.stderr)
        return 2
    if args.action == "link" and len(set(ids)) < 2:
        print("omnigate identities: link needs at least two different ids", file=sys.stderr)
        return 2
    try:
        cluster = asyncio.run(_act(url, args.action, ids))
    except StoreUnavailable as exc:
        print(f"omnigate identities: {exc}", file=sys.stderr)
        return 1
    sys.stdout.write(orjson.dumps(cluster.to_json()).decode() + "\n")
    return 0


async def _act(url: str, action: str, ids: list[str]) -> Cluster:
    linker = Linker(url)
    try:
        if action == "link":
            return await linker.link(ids)
        if action == "unlink":
            return await linker.unlink(ids[0])
        return await linker.cluster(ids[0])
    finally:
        await linker.close()


class _UsageError(Exception):
    pass


def _store_url(store: str | None, rules: str) -> str:
    try:
        if store is not None:
            return check_store_url(store, ("--store",), secret_ok=True)
        try:
            data = load_rules(rules).data
        except RuleLoadError as exc:
            raise _UsageError(f"cannot read the rules at {rules}: {exc}") from None
        linking = Linking.compile((data.get("omnichannel") or {}).get("linking"), os.environ)
    except ConfigError as exc:
        raise _UsageError(f"{'.'.join(map(str, exc.key_path))}: {exc.message}") from None
    if linking is None:
        raise _UsageError(f"the rules at {rules} do not turn identity linking on; pass --store URL")
    return linking.store
