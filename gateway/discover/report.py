"""`omnigate discover` (SPEC 1): read recorded traffic, report PII paths per route, print rule
snippets for what the rules leave in clear. Exit 1 when anything is uncovered, 2 on bad input.

PII: the report names routes (templates, or paths with id-like segments folded), JSONPath
patterns, kinds and counts. No value, and no path segment or key holding one, is ever printed.
"""

from __future__ import annotations

import json
import os
import re
import sys
from typing import TextIO

from gateway.cli_rules import PlaceholderEnviron
from gateway.detect import Detector
from gateway.discover.survey import PathStat, RouteStat, Survey
from gateway.discover.traffic import TrafficError, read_traffic
from gateway.rules_plan import Plan, compile_plan
from gateway.rules_source import RuleLoadError, load_rules

# The mask a snippet suggests for a kind found as a whole value.
_WHOLE_MASK = {"phone": "phone", "email": "email", "name": "name"}


def discover(rules: str | None, files: list[str], out: TextIO | None = None) -> int:
    plan = None
    if rules is not None:
        try:  # secrets the rules name need not be set: masks that use them still run
            plan = compile_plan(load_rules(rules), PlaceholderEnviron(os.environ))
        except RuleLoadError as exc:
            for line in exc.errors:
                print(line, file=sys.stderr)
            return 2
    try:
        recorded = [record for path in files for record in read_traffic(path)]
    except TrafficError as exc:
        print(f"omnigate discover: {exc}", file=sys.stderr)
        return 2
    survey = Survey(plan, _detector(plan))
    for record in recorded:
        survey.add(record)
    uncovered = write_report(survey, out or sys.stdout)
    return 1 if uncovered else 0


def _detector(plan: Plan | None) -> Detector:
    omnichannel = (plan.source.data.get("omnichannel") or {}) if plan is not None else {}
    return Detector(omnichannel.get("default_region", "US"), omnichannel.get("text_regions", ()))


def write_report(survey: Survey, out: TextIO) -> int:
    """Print the per-route table, a summary and the snippets; returns the uncovered path count."""
    routes = [r for r in survey.routes.values() if r.paths]
    for route in sorted(routes, key=lambda r: r.label):
        where = f"route {route.label}" if route.known else "no route"
        out.write(f"{where}: {route.template}\n")
        for pattern, stat in sorted(route.paths.items()):
            state = "covered  " if stat.covered else "UNCOVERED"
            kinds = ",".join(sorted(stat.kinds))
            seen = f"  (clear for {', '.join(sorted(stat.seen_by))})" if not stat.covered else ""
            out.write(f"  {state}  {pattern}  {kinds}  {_count(stat)}{seen}\n")
    total = sum(len(r.paths) for r in routes)
    uncovered = sum(1 for r in routes for s in r.paths.values() if not s.covered)
    out.write(
        f"{survey.documents} documents, {len(routes)} routes, {total} paths with PII: "
        f"{total - uncovered} covered, {uncovered} uncovered\n"
    )
    if uncovered:
        out.write(
            "\n# Rules that would cover the uncovered paths: review each mask, then save them as\n"
            "# a rule file of their own beside the others (every route on a path applies).\n"
        )
        out.write(snippets(routes))
    return uncovered


def _count(stat: PathStat) -> str:
    if stat.covered:
        return f"{stat.values} value{'s' if stat.values != 1 else ''}"
    return f"{stat.uncovered} of {stat.values} value{'s' if stat.values != 1 else ''} in clear"


def suggested_mask(stat: PathStat) -> str:
    """The mask a rule for this path would need: the kind's own mask for whole values (`redact`
    for handles, addresses, birth dates), `text` for phones and emails inside free text, and
    `redact` when anything else shares a string with them."""
    if not stat.inside_text and len(stat.kinds) == 1:
        return _WHOLE_MASK.get(next(iter(stat.kinds)), "redact")
    return "text" if stat.kinds <= {"phone", "email"} else "redact"


def snippets(routes: list[RouteStat]) -> str:
    """YAML routes (new names, so they can go in a file of their own beside the rules: every
    route on a path contributes, SPEC 3.2) holding one rule per uncovered path."""
    lines = ["version: 1", "routes:"]
    taken: set[str] = set()
    for route in sorted(routes, key=lambda r: r.label):
        missing = sorted((p, s) for p, s in route.paths.items() if not s.covered)
        if not missing:
            continue
        name = _route_name(route, taken)
        lines += [
            f"  - name: {name}",
            f"    match: {{ path: {json.dumps(_numbered(route.template))} }}",
            "    response:",
        ]
        for pattern, stat in missing:
            lines.append(f"      - {{ path: {json.dumps(pattern)}, mask: {suggested_mask(stat)} }}")
    return "\n".join(lines) + "\n"


def _route_name(route: RouteStat, taken: set[str]) -> str:
    base = route.label if route.known else re.sub(r"[^a-z0-9]+", "_", route.label.lower())
    base = f"{base.strip('_') or 'root'}_discovered"
    name, n = base, 2
    while name in taken:
        name, n = f"{base}_{n}", n + 1
    taken.add(name)
    return name


def _numbered(template: str) -> str:
    """`{id}` segments numbered (`{id}`, `{id2}`, ...), so a template names each once."""
    count = 0

    def number(match: re.Match[str]) -> str:
        nonlocal count
        count += 1
        return "{id}" if count == 1 else f"{{id{count}}}"

    return re.sub(r"\{id\}", number, template)
