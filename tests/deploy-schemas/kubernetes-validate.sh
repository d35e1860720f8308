#!/usr/bin/env bash
# Installs (once per version) kubernetes-validate from PyPI into a venv
# outside the checkout, for tests/deploy.rs; it ships the Kubernetes OpenAPI
# schemas, so validation needs no network afterwards. Prints the venv's python.
#
#   ~/.cache/namesrv-interop/kubernetes-validate-<version>/bin/python
set -euo pipefail

VERSION=1.37.0
CACHE="${NAMESRV_INTEROP_CACHE:-$HOME/.cache/namesrv-interop}"
VENV="$CACHE/kubernetes-validate-$VERSION"

if ! "$VENV/bin/python" -c 'import kubernetes_validate, jsonschema, yaml' 2>/dev/null; then
    rm -rf "$VENV"
    mkdir -p "$CACHE"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check "kubernetes-validate==$VERSION" >&2
fi
echo "$VENV/bin/python"
