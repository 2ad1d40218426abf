#!/usr/bin/env bash
# Fresh-machine quick start: set everything up (idempotent), then run the main job — caption a real
# recorded clip (LibriVox read speech from Debian's pocketsphinx-testdata) with the embedded default
# model (models/tiny-random: the real Qwen3-Omni thinker architecture with tiny random weights, so
# the text is meaningless; pass --model DIR for a real export). Extra arguments go to `omnicap caption`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh </dev/null
CLIP=/usr/share/pocketsphinx/test/data/librivox/sense_and_sensibility_01_austen_64kb-0870.wav
echo "quickstart: omnicap probe + caption $CLIP" >&2
node dist/src/cli/main.js probe "$CLIP"
node dist/src/cli/main.js caption "$CLIP" --max-tokens 32 "$@"
