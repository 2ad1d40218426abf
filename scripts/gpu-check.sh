#!/usr/bin/env bash
# GPU check in one command (docs/gpu.md §4), sized for one short device lease: finishes within 8
# minutes (OMNICAP_GPU_CHECK_BUDGET_S, default 470 s; every step bounded with `timeout`).
# On an NVIDIA machine, from a clean clone with the CUDA EP staged (docs/gpu.md §1, §4):
#   driver       nvidia-smi: GPU, driver, memory, compute capability
#   install-ep   (only with --install; needs network to NuGet) npm rebuild onnxruntime-node --onnxruntime-node-install=cuda12
#   cuda-ep      both EP libraries next to the binding; every library the CUDA EP links against (DT_NEEDED)
#                that the loader cannot find, with the CUDA major version it wants
#   cuda-session the committed CUDA fixture loaded on the CUDA EP with the no-fallback rule; ORT's node
#                placement per graph goes into the report (engine: src/engine/placement.ts)
#   golden-fp16  the CUDA fixture vs transformers on its dequantised weights, fp16 tolerance, greedy identical
#   golden-fp32  the fp32 reference fixture's golden test on the CUDA EP (fp32 graphs, ORT's shape placement)
#   kv-resident  the device-resident KV path against the JS path on the CUDA EP
#   decode-mid   omnicap bench, mid-size model: the CPU build on the CPU EP and the CUDA build on the CUDA EP
# and writes ONE JSON file. Steps are skipped when one they depend on failed.
#
#   bash scripts/gpu-check.sh [--out gpu-check.json] [--mid-dir DIR] [--install] [--dry-run]
#
# --dry-run prints the plan (steps, commands, time bounds, which inputs are present) and exits 0
# without touching a GPU. Run after `npm run build`. Exit status: 0 all checks passed, 1 a check
# failed, 2 no usable CUDA EP. OMNICAP_ORT_BINDING_DIR overrides where the EP libraries are looked
# for, OMNICAP_NVIDIA_SMI the driver tool (tests use both to simulate a machine without a GPU).
set -uo pipefail
cd "$(dirname "$0")/.."

OUT=gpu-check.json
MID_DIR=models/cache/bench-mid
INSTALL=0
DRY=0
CUDA_FIXTURE=models/tiny-random-qmoe-int4-cuda
while [ $# -gt 0 ]; do
  case "$1" in
    --out) OUT="$2"; shift 2 ;;
    --mid-dir) MID_DIR="$2"; shift 2 ;;
    --install) INSTALL=1; shift ;;
    --dry-run) DRY=1; shift ;;
    -h|--help) sed -n 2,25p "$0"; exit 0 ;;
    *) echo "gpu-check: unknown argument $1 (see --help)" >&2; exit 64 ;;
  esac
done

BUDGET=${OMNICAP_GPU_CHECK_BUDGET_S:-470}
MID_CPU="$MID_DIR/cpu-int4-qmoe"
MID_CUDA="$MID_DIR/cuda-fp16-int4-qmoe"
BENCH_ARGS="--runs 3 --warmup 1 --max-tokens 32 --kv-past 0,512,1024,2048 --runtimes none"
# name|bound in seconds|command (what the step runs; shown by --dry-run)
PLAN=(
  "driver|10|\${OMNICAP_NVIDIA_SMI:-nvidia-smi} --query-gpu=name,driver_version,memory.total,compute_cap --format=csv,noheader"
  "install-ep|240|npm rebuild onnxruntime-node --onnxruntime-node-install=cuda12 (only with --install)"
  "cuda-ep|15|readelf -d libonnxruntime_providers_cuda.so (the CUDA major it links against) and ldd (each library the loader cannot find)"
  "cuda-session|90|node: loadCaptioner($CUDA_FIXTURE, {provider: 'cuda'}) — no-fallback rule, placement of embed/audio_encoder/decoder"
  "golden-fp16|90|OMNICAP_ENGINE_TEST_PROVIDER=cuda npx jest test/engine/cuda-fixture.test.ts"
  "golden-fp32|60|OMNICAP_ENGINE_TEST_PROVIDER=cuda npx jest test/engine/golden.test.ts"
  "kv-resident|80|OMNICAP_ENGINE_TEST_PROVIDER=cuda npx jest test/engine/resident.test.ts"
  "decode-mid|120|omnicap bench --model $MID_CPU --providers cpu $BENCH_ARGS; omnicap bench --model $MID_CUDA --providers cuda $BENCH_ARGS"
)

if [ "$DRY" = 1 ]; then
  total=0
  echo "gpu-check plan (budget ${BUDGET} s; each step bounded by timeout; one JSON report: $OUT)"
  for entry in "${PLAN[@]}"; do
    IFS='|' read -r name bound cmd <<< "$entry"
    [ "$name" = install-ep ] && [ "$INSTALL" = 0 ] && { printf '  %-13s skipped (no --install)\n' "$name"; continue; }
    total=$(( total + bound ))
    printf '  %-13s <= %3s s  %s\n' "$name" "$bound" "$cmd"
  done
  echo "sum of step bounds: ${total} s (the script also stops starting steps when the budget is spent)"
  echo "inputs:"
  for p in dist/src/cli/main.js "$CUDA_FIXTURE/manifest.json" models/tiny-random/manifest.json "$MID_CPU/manifest.json" "$MID_CUDA/manifest.json"; do
    if [ -e "$p" ]; then printf '  present  %s\n' "$p"; else printf '  MISSING  %s\n' "$p"; fi
  done
  exit 0
fi

START=$(date +%s)
WORK=$(mktemp -d -t omnicap-gpu-check-XXXXXX)
trap 'rm -rf "$WORK"' EXIT
: > "$WORK/steps.jsonl"
: > "$WORK/missing.txt"

left() { echo $(( BUDGET - ($(date +%s) - START) )); }
bound() { local b=$1 l; l=$(left); [ "$l" -lt "$b" ] && b=$l; [ "$b" -lt 1 ] && b=1; echo "$b"; }
# step NAME STATUS SECONDS DETAIL_FILE
step() { node -e 'const fs=require("fs");const [n,s,sec,f]=process.argv.slice(1);fs.appendFileSync(process.argv[5],JSON.stringify({name:n,status:s,seconds:+sec,detail:fs.existsSync(f)?fs.readFileSync(f,"utf8").trim().slice(-4000):""})+"\n")' "$1" "$2" "$3" "$4" "$WORK/steps.jsonl"; }
missing() { echo "$1" >> "$WORK/missing.txt"; echo "gpu-check: MISSING: $1" >&2; }
skip() { echo "skipped: $2" > "$WORK/$1.txt"; step "$1" skipped 0 "$WORK/$1.txt"; }
# run NAME BOUND CMD...: a bounded step whose exit status decides ok/failed
run() {
  local name=$1 b t0 st; b=$(bound "$2"); shift 2; t0=$(date +%s)
  if [ "$(left)" -le 5 ]; then skip "$name" "the ${BUDGET} s budget is spent"; FAILED=1; return 1; fi
  if timeout "$b" "$@" > "$WORK/$name.txt" 2>&1; then st=ok; else st=failed; FAILED=1; fi
  step "$name" "$st" $(( $(date +%s) - t0 )) "$WORK/$name.txt"
  [ "$st" = ok ]
}
FAILED=0

# 1. driver and GPU
t0=$(date +%s)
GPU_OK=0
SMI=${OMNICAP_NVIDIA_SMI:-nvidia-smi}
if command -v "$SMI" >/dev/null 2>&1; then
  if timeout 10 "$SMI" --query-gpu=name,driver_version,memory.total,compute_cap --format=csv,noheader > "$WORK/gpu.txt" 2>&1; then
    GPU_OK=1
    timeout 10 "$SMI" 2>/dev/null | grep -o 'CUDA Version: [0-9.]*' >> "$WORK/gpu.txt" || true
    step driver ok $(( $(date +%s) - t0 )) "$WORK/gpu.txt"
  else
    missing "$SMI failed: $(tail -1 "$WORK/gpu.txt")"
    step driver failed $(( $(date +%s) - t0 )) "$WORK/gpu.txt"
  fi
else
  echo "$SMI not found" > "$WORK/gpu.txt"
  missing "no NVIDIA driver: $SMI not found on PATH"
  step driver failed 0 "$WORK/gpu.txt"
fi

# 2. the CUDA EP libraries next to onnxruntime-node's binding, and what they link against
t0=$(date +%s)
BIN=${OMNICAP_ORT_BINDING_DIR:-$(node -e 'const p=require("path");console.log(p.join(p.dirname(require.resolve("onnxruntime-node/package.json")),"bin","napi-v6",process.platform,process.arch))')}
ORT_VERSION=$(node -p 'require("onnxruntime-node/package.json").version')
if [ "$INSTALL" = 1 ] && [ ! -f "$BIN/libonnxruntime_providers_cuda.so" ]; then
  echo "installing the CUDA EP (NuGet Microsoft.ML.OnnxRuntime.Gpu.Linux $ORT_VERSION)" >&2
  timeout 240 npm rebuild onnxruntime-node --onnxruntime-node-install=cuda12 > "$WORK/install.txt" 2>&1
  step install-ep "$([ -f "$BIN/libonnxruntime_providers_cuda.so" ] && echo ok || echo failed)" $(( $(date +%s) - t0 )) "$WORK/install.txt"
  t0=$(date +%s)
fi
EP_OK=1
: > "$WORK/ep.txt"
for lib in libonnxruntime_providers_cuda.so libonnxruntime_providers_shared.so; do
  if [ -f "$BIN/$lib" ]; then echo "$lib: $(stat -c %s "$BIN/$lib") bytes" >> "$WORK/ep.txt"
  else
    EP_OK=0
    echo "$lib: absent" >> "$WORK/ep.txt"
    missing "$lib not in $BIN (onnxruntime-node $ORT_VERSION ships without the CUDA EP: npm rebuild onnxruntime-node --onnxruntime-node-install=cuda12, or stage it from the Microsoft.ML.OnnxRuntime.Gpu.Linux $ORT_VERSION NuGet package, docs/gpu.md §1)"
  fi
done
if [ -f "$BIN/libonnxruntime_providers_cuda.so" ]; then
  # the CUDA major version the EP links against, from its libcudart/libcublas sonames
  WANT=$( (readelf -d "$BIN/libonnxruntime_providers_cuda.so" 2>/dev/null || true) | grep -o 'lib\(cudart\|cublas\)\.so\.[0-9]*' | head -1 | sed 's/.*\.so\.//')
  echo "links against CUDA ${WANT:-?}" >> "$WORK/ep.txt"
  LD_LIBRARY_PATH="$BIN${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" ldd "$BIN/libonnxruntime_providers_cuda.so" > "$WORK/ldd.txt" 2>&1
  cat "$WORK/ldd.txt" >> "$WORK/ep.txt"
  while read -r lib; do
    EP_OK=0
    hint=""
    base=${lib%%.so*}
    other=$( (ldconfig -p 2>/dev/null; for d in ${LD_LIBRARY_PATH//:/ } /usr/local/cuda/lib64; do ls "$d" 2>/dev/null; done) | grep -o "$base\.so\.[0-9][0-9]*" | grep -v "^$lib\$" | sort -u | tr '\n' ' ')
    [ -n "$other" ] && hint=" (found ${other% } instead: a CUDA/cuDNN major-version mismatch; the EP of onnxruntime-node $ORT_VERSION links against CUDA ${WANT:-?})"
    missing "$lib needed by libonnxruntime_providers_cuda.so not found on the loader path$hint"
  done < <(grep 'not found' "$WORK/ldd.txt" | awk '{print $1}')
fi
step cuda-ep "$([ "$EP_OK" = 1 ] && echo ok || echo failed)" $(( $(date +%s) - t0 )) "$WORK/ep.txt"

# 3. the CUDA fixture through the engine on the CUDA EP: no node may fall back to the CPU EP
SESSION_OK=0
if [ "$GPU_OK" = 1 ] && [ "$EP_OK" = 1 ]; then
  if run cuda-session 90 node -e '
    const { loadCaptioner } = require("./dist/src/engine");
    loadCaptioner(process.argv[1], { provider: "cuda", runtime: "main", threads: 1 }).then(async (e) => {
      const place = e.ortSessions.placement ?? [];
      console.log(JSON.stringify({ provider: e.provider, kv: e.kvCache, placement: place.map((p) => ({ session: p.session, counts: p.report.counts, cpuPreferred: p.report.cpuPreferred, cpu: p.report.placements.CPUExecutionProvider ?? [] })) }));
      await e.dispose();
    }, (err) => { console.error(JSON.stringify({ code: err.code, message: err.message, details: err.details })); process.exit(1); });' "$CUDA_FIXTURE"; then
    SESSION_OK=1
  else
    missing "the CUDA fixture did not load on the CUDA EP without CPU fallback: $(tail -c 600 "$WORK/cuda-session.txt")"
  fi
else
  skip cuda-session "no driver or no usable CUDA EP"
fi

# 4-6. golden values and the resident KV path on the CUDA EP
for t in "golden-fp16|90|test/engine/cuda-fixture.test.ts" "golden-fp32|60|test/engine/golden.test.ts" "kv-resident|80|test/engine/resident.test.ts"; do
  IFS='|' read -r name b file <<< "$t"
  if [ "$SESSION_OK" = 1 ]; then OMNICAP_ENGINE_TEST_PROVIDER=cuda run "$name" "$b" npx jest "$file"
  else skip "$name" "the CUDA EP cannot load the CUDA fixture"; fi
done

# 7. decode on the mid-size model: the CPU build on the CPU EP vs the CUDA build on the CUDA EP
if [ "$SESSION_OK" = 1 ] && [ -f "$MID_CPU/manifest.json" ] && [ -f "$MID_CUDA/manifest.json" ]; then
  # shellcheck disable=SC2086
  run decode-mid 120 bash -c "node dist/src/cli/main.js bench --model '$MID_CPU' --providers cpu $BENCH_ARGS --json '$WORK/bench-cpu.json' && node dist/src/cli/main.js bench --model '$MID_CUDA' --providers cuda $BENCH_ARGS --json '$WORK/bench-cuda.json'"
elif [ "$SESSION_OK" = 1 ]; then
  skip decode-mid "mid-size builds not staged: $MID_CPU and $MID_CUDA (docs/gpu.md §4: make_bench_model --variants cpu-int4-qmoe,cuda-fp16-int4-qmoe)"
else
  skip decode-mid "the CUDA EP cannot load the CUDA fixture"
fi

node -e '
  const fs = require("fs");
  const [dir, out, ver, bin, budget] = process.argv.slice(1);
  const lines = (f) => fs.readFileSync(`${dir}/${f}`, "utf8").split("\n").filter((l) => l.length > 0);
  const json = (f) => (fs.existsSync(`${dir}/${f}`) ? JSON.parse(fs.readFileSync(`${dir}/${f}`, "utf8")) : null);
  const steps = lines("steps.jsonl").map((l) => JSON.parse(l));
  const missing = lines("missing.txt");
  const report = { kind: "omnicap-gpu-check", version: 2, createdAt: new Date().toISOString(), onnxruntimeNode: ver, bindingDir: bin, budgetSeconds: +budget,
    usable: missing.length === 0 && steps.every((s) => s.status !== "failed"), missing, steps, bench: { cpu: json("bench-cpu.json"), cuda: json("bench-cuda.json") } };
  fs.writeFileSync(out, JSON.stringify(report, null, 2) + "\n");
' "$WORK" "$OUT" "$ORT_VERSION" "$BIN" "$BUDGET"
echo "gpu-check: wrote $OUT in $(( $(date +%s) - START )) s" >&2
if [ "$SESSION_OK" != 1 ]; then exit 2; fi
exit $FAILED
