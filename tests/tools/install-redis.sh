#!/bin/sh
# Installs a real `redis-server` (the Debian package) for the identity-linking tests
# (tests/identity). The tests start their own server on a random loopback port; they fail under
# CI=true when redis-server is missing, and are skipped with a hint elsewhere.
#
# Usage: sh tests/tools/install-redis.sh
#
# Idempotent: returns at once when redis-server is already on PATH. Needs apt-get, and root
# (CI runs as root) or sudo.
set -eu

fail() {
    echo "install-redis: error: $*" >&2
    exit 1
}

if command -v redis-server >/dev/null 2>&1; then
    exit 0
fi
command -v apt-get >/dev/null 2>&1 || fail "apt-get not found: install redis-server (>= 6.2) yourself"
if [ "$(id -u)" -eq 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
else
    fail "run as root (or install sudo) to install redis-server"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends redis-server >/dev/null
command -v redis-server >/dev/null 2>&1 || fail "redis-server is still not on PATH"
redis-server --version
