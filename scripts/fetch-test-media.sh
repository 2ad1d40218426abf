#!/usr/bin/env bash
# Real test media for omnicap, from Debian and npm packages only (nothing from the web or model hubs).
#
#   bash scripts/fetch-test-media.sh            # idempotent; safe to re-run, works as root with no stdin
#   FORCE=1 bash scripts/fetch-test-media.sh    # regenerate the derived files
#
# Sources:
#   - pocketsphinx-testdata: 16 kHz mono read speech (librivox, cards) with transcriptions
#   - alsa-utils:            48 kHz spoken channel names ("Front Center", ...) and Noise.wav
#   - fonts-dejavu-core:     font for ffmpeg drawtext (on-screen text in the test videos)
#   - sound-theme-freedesktop: real sound effects (.oga: chimes, alarms, camera shutter, trash)
#   - debconf:               /usr/share/pixmaps/debian-logo.png (a real image overlaid on the video)
#   - scratch:               Scratch 1.4's sound library, named sound effects (Media/Sounds/Animal/Dog1.wav,
#                            Effects/DoorCreak.wav, Percussion/Gong.wav, ...): the labelled sound-event set
#                            test/fixtures/sound-events.json (the package pulls in squeak-vm; only its sounds are used)
#   - sound-icons:           short instrument and bird sounds (guitar, piano, trumpet, canary), same set
#   - npm audio-lena@3.0.1:  a 12 s music recording in wav/mp3/ogg/flac/m4a/opus/webm (npm pack into
#                            the cache; it is NOT a project dependency)
# Derived with the project's static ffmpeg (@ffmpeg-installer/ffmpeg): lossy/lossless encodes of a real
# speech clip, a 48 kHz stereo file, float32/24-bit/8-bit WAVs, videos with and without audio, and a
# > 30 s speech clip made by concatenating real clips.
#
# Output: test/media/cache/ (gitignored) with index.json: [{id, path, kind, transcript?, ...}].
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$(pwd)"
CACHE="$ROOT/test/media/cache"
mkdir -p "$CACHE"

APT_PACKAGES=(pocketsphinx-testdata alsa-utils fonts-dejavu-core debconf sound-theme-freedesktop scratch sound-icons)
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "fetch-test-media: installing Debian packages: ${missing[*]}"
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq </dev/null
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null >/dev/null
fi

FFMPEG="${FFMPEG_PATH:-$(node -e "process.stdout.write(require('@ffmpeg-installer/ffmpeg').path)")}"
if [ ! -x "$FFMPEG" ]; then
  echo "fetch-test-media: ffmpeg not found at $FFMPEG (run npm ci first)" >&2
  exit 1
fi

PS=/usr/share/pocketsphinx/test/data
ALSA=/usr/share/sounds/alsa
FONT=/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf
LOGO=/usr/share/pixmaps/debian-logo.png

# ---- link the Debian clips ---------------------------------------------------------------------
mkdir -p "$CACHE/debian"
for f in "$PS"/librivox/*.wav; do ln -sf "$f" "$CACHE/debian/librivox-$(basename "$f")"; done
for f in "$PS"/cards/*.wav; do ln -sf "$f" "$CACHE/debian/cards-$(basename "$f")"; done
for f in "$ALSA"/*.wav; do ln -sf "$f" "$CACHE/debian/alsa-$(basename "$f")"; done

# ---- audio-lena (music) via npm pack -----------------------------------------------------------
LENA_VERSION=3.0.1
mkdir -p "$CACHE/lena"
if [ ! -f "$CACHE/lena/.version-$LENA_VERSION" ]; then
  echo "fetch-test-media: npm pack audio-lena@$LENA_VERSION"
  tmp="$(mktemp -d)"
  if (cd "$tmp" && npm pack --silent "audio-lena@$LENA_VERSION" </dev/null >/dev/null) && tar -xzf "$tmp"/audio-lena-*.tgz -C "$tmp"; then
    for ext in wav mp3 ogg flac m4a opus webm; do cp "$tmp/package/lena.$ext" "$CACHE/lena/lena.$ext"; done
    touch "$CACHE/lena/.version-$LENA_VERSION"
  else
    echo "fetch-test-media: WARNING: could not fetch audio-lena from the npm registry; music clips are left out" >&2
  fi
  rm -rf "$tmp"
fi

# ---- derived media -----------------------------------------------------------------------------
mkdir -p "$CACHE/derived"
D="$CACHE/derived"
SPEECH="$PS/librivox/sense_and_sensibility_01_austen_64kb-0870.wav"
make_one() { # make_one OUTPUT ffmpeg-args...
  local out="$1"; shift
  if [ -s "$out" ] && [ "${FORCE:-0}" != 1 ]; then return 0; fi
  echo "fetch-test-media: making $(basename "$out")"
  "$FFMPEG" -nostdin -hide_banner -loglevel error -y "$@" "$out.tmp.${out##*.}"
  mv "$out.tmp.${out##*.}" "$out"
}

make_one "$D/speech-0870.mp3" -i "$SPEECH" -c:a libmp3lame -b:a 64k
make_one "$D/speech-0870.ogg" -i "$SPEECH" -c:a libvorbis -q:a 4
make_one "$D/speech-0870.flac" -i "$SPEECH" -c:a flac
make_one "$D/speech-0870.m4a" -i "$SPEECH" -c:a aac -b:a 64k
make_one "$D/speech-0870.opus" -i "$SPEECH" -c:a libopus -b:a 32k
make_one "$D/speech-0870-48k-stereo.wav" -i "$SPEECH" -ac 2 -ar 48000 -c:a pcm_s16le
make_one "$D/speech-0870-f32.wav" -i "$SPEECH" -c:a pcm_f32le
make_one "$D/speech-0870-s24-44k.wav" -i "$SPEECH" -ar 44100 -c:a pcm_s24le
make_one "$D/speech-0870-u8-8k.wav" -i "$SPEECH" -ar 8000 -c:a pcm_u8

# > 30 s: all librivox clips then all cards clips (all 16 kHz mono s16)
LONG_INPUTS=()
for f in "$PS"/librivox/*.wav "$PS"/cards/*.wav; do LONG_INPUTS+=(-i "$f"); done
n=$(( ${#LONG_INPUTS[@]} / 2 ))
concat_in=""
for i in $(seq 0 $((n - 1))); do concat_in="$concat_in[$i:a]"; done
make_one "$D/speech-long.wav" "${LONG_INPUTS[@]}" -filter_complex "${concat_in}concat=n=$n:v=0:a=1[a]" -map "[a]" -c:a pcm_s16le

# Video: red/green/blue 2 s segments, the Debian logo and the text OMNICAP, with 6 s of real speech.
VIDEO_FILTER="[0:v][1:v][2:v]concat=n=3:v=1:a=0[bg];[3:v]scale=64:64[logo];[bg][logo]overlay=W-w-8:8[ov];[ov]drawtext=fontfile=$FONT:text=OMNICAP:fontsize=40:fontcolor=white:x=20:y=170[v]"
VIDEO_INPUTS=(-f lavfi -i "color=c=red:s=320x240:r=25:d=2" -f lavfi -i "color=c=0x00C000:s=320x240:r=25:d=2"
  -f lavfi -i "color=c=blue:s=320x240:r=25:d=2" -i "$LOGO")
make_one "$D/video-av.mp4" "${VIDEO_INPUTS[@]}" -i "$SPEECH" -filter_complex "$VIDEO_FILTER" -map "[v]" -map 4:a \
  -t 6 -c:v libx264 -preset veryfast -pix_fmt yuv420p -c:a aac -b:a 64k -movflags +faststart
make_one "$D/video-noaudio.mp4" "${VIDEO_INPUTS[@]}" -filter_complex "$VIDEO_FILTER" -map "[v]" \
  -t 6 -c:v libx264 -preset veryfast -pix_fmt yuv420p -an
make_one "$D/video-av.mkv" -i "$D/video-av.mp4" -c:v copy -c:a flac

# ---- index.json ---------------------------------------------------------------------------------
node - "$CACHE" "$PS" <<'EOF'
const fs = require('fs');
const path = require('path');
const [cache, ps] = process.argv.slice(2);
const readTranscripts = (file) => {
  const out = {};
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const m = /^<s>\s*(.*?)\s*<\/s>\s*\(([^)]+)\)/.exec(line.trim());
    if (m) out[m[2]] = m[1].replace(/\s+/g, ' ');
  }
  return out;
};
const libri = readTranscripts(path.join(ps, 'librivox/transcription'));
const cards = readTranscripts(path.join(ps, 'cards/cards.transcription'));
const entries = [];
const add = (e) => entries.push({ hasAudio: true, hasVideo: false, ...e });
for (const [id, text] of Object.entries(libri)) {
  add({ id: `librivox-${id.slice(-4)}`, path: `debian/librivox-${id}.wav`, kind: 'speech', transcript: text, sampleRate: 16000, channels: 1, source: 'pocketsphinx-testdata' });
}
for (const [id, text] of Object.entries(cards)) {
  add({ id: `cards-${id}`, path: `debian/cards-${id}.wav`, kind: 'speech', transcript: text, sampleRate: 16000, channels: 1, source: 'pocketsphinx-testdata' });
}
for (const f of fs.readdirSync(path.join(cache, 'debian')).filter((f) => f.startsWith('alsa-')).sort()) {
  const name = f.slice(5, -4);
  const noise = name === 'Noise';
  add({ id: `alsa-${name.toLowerCase().replace(/_/g, '-')}`, path: `debian/${f}`, kind: noise ? 'noise' : 'speech',
    ...(noise ? {} : { transcript: name.toLowerCase().replace(/_/g, ' ') }), sampleRate: 48000, channels: 1, source: 'alsa-utils' });
}
for (const ext of ['wav', 'mp3', 'ogg', 'flac', 'm4a', 'opus', 'webm']) {
  if (!fs.existsSync(path.join(cache, `lena/lena.${ext}`))) continue;
  add({ id: `lena-${ext}`, path: `lena/lena.${ext}`, kind: 'music', source: 'npm audio-lena@3.0.1' });
}
const t0870 = libri['sense_and_sensibility_01_austen_64kb-0870'];
for (const [id, file, extra] of [
  ['speech-0870-mp3', 'speech-0870.mp3', {}], ['speech-0870-ogg', 'speech-0870.ogg', {}], ['speech-0870-flac', 'speech-0870.flac', {}],
  ['speech-0870-m4a', 'speech-0870.m4a', {}], ['speech-0870-opus', 'speech-0870.opus', {}],
  ['speech-0870-48k-stereo', 'speech-0870-48k-stereo.wav', { sampleRate: 48000, channels: 2 }],
  ['speech-0870-f32', 'speech-0870-f32.wav', { sampleRate: 16000, channels: 1 }],
  ['speech-0870-s24-44k', 'speech-0870-s24-44k.wav', { sampleRate: 44100, channels: 1 }],
  ['speech-0870-u8-8k', 'speech-0870-u8-8k.wav', { sampleRate: 8000, channels: 1 }],
]) add({ id, path: `derived/${file}`, kind: 'speech', transcript: t0870, source: 'derived from librivox-0870', ...extra });
add({ id: 'speech-long', path: 'derived/speech-long.wav', kind: 'speech', sampleRate: 16000, channels: 1,
  transcript: [...Object.values(libri), ...Object.values(cards)].join(' '), source: 'concatenation of all librivox and cards clips' });
const videoText = 'OMNICAP';
add({ id: 'video-av-mp4', path: 'derived/video-av.mp4', kind: 'video', hasVideo: true, onScreenText: videoText, width: 320, height: 240, fps: 25, source: 'ffmpeg color+logo+drawtext with librivox-0870 audio' });
add({ id: 'video-av-mkv', path: 'derived/video-av.mkv', kind: 'video', hasVideo: true, onScreenText: videoText, width: 320, height: 240, fps: 25, source: 'remux of video-av.mp4 with flac audio' });
add({ id: 'video-noaudio-mp4', path: 'derived/video-noaudio.mp4', kind: 'video', hasAudio: false, hasVideo: true, onScreenText: videoText, width: 320, height: 240, fps: 25, source: 'ffmpeg color+logo+drawtext, no audio' });
for (const e of entries) {
  if (!fs.existsSync(path.join(cache, e.path))) throw new Error(`missing ${e.path}`);
}
fs.writeFileSync(path.join(cache, 'index.json'), JSON.stringify({ version: 1, entries }, null, 2) + '\n');
console.log(`fetch-test-media: ${entries.length} clips indexed in ${path.join(cache, 'index.json')}`);
EOF
