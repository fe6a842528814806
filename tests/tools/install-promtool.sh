#!/bin/sh
# Makes `promtool` (Prometheus' rule checker) available as VENV_DIR/bin/promtool for the alert
# tests (tests/deploy/test_alerts.py, `promtool test rules`).
#
# Usage: sh tests/tools/install-promtool.sh VENV_DIR
#
# Route: a promtool already on PATH is linked; otherwise, as root on Debian/Ubuntu, the distribution
# package `prometheus` (which ships /usr/bin/promtool) is installed with apt-get. Elsewhere it
# prints how to get promtool and fails; `make test` then skips the alert tests (CI=true fails them).
#
# Idempotent: returns at once when VENV_DIR/bin/promtool already runs.
set -eu

fail() {
    echo "install-promtool: error: $*" >&2
    echo "install-promtool: get promtool from https://prometheus.io/download/ (in the prometheus" \
        "tarball) or your package manager (Debian/Ubuntu: apt-get install prometheus), then" \
        "link it to $TARGET" >&2
    exit 1
}

[ $# -eq 1 ] || { echo "usage: sh $0 VENV_DIR" >&2; exit 1; }
VENV_DIR=$1
TARGET="$VENV_DIR/bin/promtool"
[ -d "$VENV_DIR" ] || fail "'$VENV_DIR' is not a directory (create the virtualenv first)"

if [ -x "$TARGET" ] && "$TARGET" --version >/dev/null 2>&1; then
    exit 0
fi

FOUND=$(command -v promtool 2>/dev/null || true)
if [ -z "$FOUND" ]; then
    command -v apt-get >/dev/null 2>&1 || fail "promtool not found and no apt-get here"
    [ "$(id -u)" -eq 0 ] || fail "promtool not found; installing the 'prometheus' package needs root"
    echo "install-promtool: installing the Debian package 'prometheus' (for /usr/bin/promtool)" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null || fail "apt-get update failed"
    # --no-install-recommends: promtool is all we need, not the server's web assets.
    apt-get install -y -qq --no-install-recommends prometheus >/dev/null \
        || fail "apt-get install prometheus failed"
    FOUND=$(command -v promtool 2>/dev/null || true)
    [ -n "$FOUND" ] || fail "the prometheus package installed no promtool"
fi

mkdir -p "$VENV_DIR/bin"
ln -sf "$FOUND" "$TARGET"
VERSION=$("$TARGET" --version 2>&1 | head -n 1) || fail "$TARGET does not run: $VERSION"
echo "install-promtool: $VERSION at $TARGET" >&2
