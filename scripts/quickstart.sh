#!/usr/bin/env bash
# Fresh-machine quick start: set everything up (idempotent), then run the main job offline —
# Omni-Detective on a real recorded clip (LibriVox read speech from Debian's pocketsphinx-testdata)
# with the embedded default models (Qwen2.5-Coder-1.5B-Instruct as the detective, Whisper ASR,
# Silero VAD, signal analysis), and print the clip's caption and where each fact came from.
# Extra arguments go to `omnicap detect` (e.g. --synthesis template, --rounds 6).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh </dev/null
CLIP=/usr/share/pocketsphinx/test/data/librivox/sense_and_sensibility_01_austen_64kb-0870.wav
WORK="$(mktemp -d -t omnicap-quickstart-XXXXXX)"
printf '{"id": "librivox-0870", "path": "%s"}\n' "$CLIP" > "$WORK/clips.jsonl"
echo "quickstart: omnicap probe $CLIP" >&2
node dist/src/cli/main.js probe "$CLIP"
echo "quickstart: omnicap detect (embedded local models, offline; about 41 s on a 2-core machine with the state setup saved, docs/benchmarks.md)" >&2
node dist/src/cli/main.js detect --input "$WORK/clips.jsonl" --output "$WORK/annotations.jsonl" "$@"
node -e '
  const line = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n").pop());
  console.log(`\nclip ${line.id}: status ${line.status}${line.degraded_reasons ? ` (${line.degraded_reasons.join("; ")})` : ""}`);
  for (const r of line.omni_detective_trajectory || []) if (r.status === "ok") console.log(`  round ${r.round} ${r.tool}: ${r.answer.slice(0, 160)}`);
  console.log(`\ncaption (${line.synthesis ? line.synthesis.source : "-"}):\n${line.caption}\n`);
  console.log(`full record: ${process.argv[1]}`);
' "$WORK/annotations.jsonl"
