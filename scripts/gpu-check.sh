#!/usr/bin/env bash
# GPU check in one command (docs/gpu.md §4). On an NVIDIA machine: locate (or, with --install,
# install) onnxruntime-node's CUDA execution provider, check what it needs from the system, load a
# session on it, run the engine golden tests and the resident-KV tests (cache in device memory) with
# the CUDA provider, and `omnicap bench` CPU vs CUDA (stages, TTFT, decode step vs context on both KV
# paths). Writes ONE JSON file and stays within 10 minutes.
# When something is missing it says exactly what (no driver, EP libraries absent, a CUDA/cuDNN
# library the EP links against not found, e.g. a CUDA major-version mismatch) and skips what
# depends on it.
#
#   bash scripts/gpu-check.sh [--out gpu-check.json] [--model DIR] [--install]
#
# Run after `npm run build`. Exit status: 0 all checks passed, 1 a check failed, 2 no usable CUDA EP.
# OMNICAP_ORT_BINDING_DIR overrides where the EP libraries are looked for, OMNICAP_NVIDIA_SMI the
# driver tool (tests use both to simulate a machine without a GPU).
set -uo pipefail
cd "$(dirname "$0")/.."

OUT=gpu-check.json
MODEL=models/tiny-random
INSTALL=0
while [ $# -gt 0 ]; do
  case "$1" in
    --out) OUT="$2"; shift 2 ;;
    --model) MODEL="$2"; shift 2 ;;
    --install) INSTALL=1; shift ;;
    -h|--help) sed -n 2,14p "$0"; exit 0 ;;
    *) echo "gpu-check: unknown argument $1 (see --help)" >&2; exit 64 ;;
  esac
done

START=$(date +%s)
BUDGET=${OMNICAP_GPU_CHECK_BUDGET_S:-570}   # the whole script must end within 10 minutes
WORK=$(mktemp -d -t omnicap-gpu-check-XXXXXX)
trap 'rm -rf "$WORK"' EXIT
: > "$WORK/steps.jsonl"
: > "$WORK/missing.txt"

left() { echo $(( BUDGET - ($(date +%s) - START) )); }
# step NAME STATUS SECONDS DETAIL_FILE
step() { node -e 'const fs=require("fs");const [n,s,sec,f]=process.argv.slice(1);fs.appendFileSync(process.argv[5],JSON.stringify({name:n,status:s,seconds:+sec,detail:fs.existsSync(f)?fs.readFileSync(f,"utf8").trim().slice(-4000):""})+"\n")' "$1" "$2" "$3" "$4" "$WORK/steps.jsonl"; }
missing() { echo "$1" >> "$WORK/missing.txt"; echo "gpu-check: MISSING: $1" >&2; }

# 1. driver and GPU
t0=$(date +%s)
GPU_OK=0
SMI=${OMNICAP_NVIDIA_SMI:-nvidia-smi}
if command -v "$SMI" >/dev/null 2>&1; then
  if "$SMI" --query-gpu=name,driver_version,memory.total --format=csv,noheader > "$WORK/gpu.txt" 2>&1; then
    GPU_OK=1
    "$SMI" 2>/dev/null | grep -o 'CUDA Version: [0-9.]*' >> "$WORK/gpu.txt" || true
    DRIVER=$(head -1 "$WORK/gpu.txt" | cut -d, -f2 | tr -d ' ')
    if [ "${DRIVER%%.*}" -lt 525 ] 2>/dev/null; then missing "NVIDIA driver $DRIVER is older than 525 (CUDA 12 needs >= 525.60.13)"; fi
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

# 2. the CUDA EP libraries next to onnxruntime-node's binding
t0=$(date +%s)
BIN=${OMNICAP_ORT_BINDING_DIR:-$(node -e 'const p=require("path");console.log(p.join(p.dirname(require.resolve("onnxruntime-node/package.json")),"bin","napi-v6",process.platform,process.arch))')}
ORT_VERSION=$(node -p 'require("onnxruntime-node/package.json").version')
if [ "$INSTALL" = 1 ] && [ ! -f "$BIN/libonnxruntime_providers_cuda.so" ]; then
  echo "installing the CUDA 12 EP (NuGet Microsoft.ML.OnnxRuntime.Gpu.Linux $ORT_VERSION)" >&2
  timeout 240 npm rebuild onnxruntime-node --onnxruntime-node-install=cuda12 > "$WORK/install.txt" 2>&1
  step install-ep $([ -f "$BIN/libonnxruntime_providers_cuda.so" ] && echo ok || echo failed) $(( $(date +%s) - t0 )) "$WORK/install.txt"
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
# what the EP itself links against (CUDA 12 runtime, cuBLAS, cuFFT, cuRAND, cuDNN 9)
if [ -f "$BIN/libonnxruntime_providers_cuda.so" ]; then
  LD_LIBRARY_PATH="$BIN${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" ldd "$BIN/libonnxruntime_providers_cuda.so" > "$WORK/ldd.txt" 2>&1
  cat "$WORK/ldd.txt" >> "$WORK/ep.txt"
  while read -r lib; do
    EP_OK=0
    hint=""
    base=${lib%%.so*}
    other=$( (ldconfig -p 2>/dev/null; for d in ${LD_LIBRARY_PATH//:/ } /usr/local/cuda/lib64; do ls "$d" 2>/dev/null; done) | grep -o "$base\.so\.[0-9][0-9]*" | grep -v "^$lib\$" | sort -u | tr '\n' ' ')
    [ -n "$other" ] && hint=" (found ${other% } instead: a CUDA/cuDNN major-version mismatch; the EP of onnxruntime-node $ORT_VERSION is built for CUDA 12 + cuDNN 9)"
    missing "$lib needed by libonnxruntime_providers_cuda.so not found on the loader path$hint"
  done < <(grep 'not found' "$WORK/ldd.txt" | awk '{print $1}')
fi
step cuda-ep $([ "$EP_OK" = 1 ] && echo ok || echo failed) $(( $(date +%s) - t0 )) "$WORK/ep.txt"

# 3. a real session on the CUDA EP (no CPU fallback in the list: the load error is ORT's own)
t0=$(date +%s)
SESSION_OK=0
if [ "$GPU_OK" = 1 ] && [ "$EP_OK" = 1 ]; then
  if timeout 120 node -e '
    const ort = require("onnxruntime-node");
    ort.InferenceSession.create(process.argv[1], { executionProviders: [{ name: "cuda", deviceId: 0 }] })
      .then(async (s) => { const r = await s.run({ input_ids: new ort.Tensor("int64", BigInt64Array.of(1n, 2n), [1, 2]) }); console.log("cuda session ok, inputs_embeds", r.inputs_embeds.dims.join("x")); await s.release(); })
      .catch((e) => { console.error(String(e && e.message || e)); process.exit(1); });' "$MODEL/embed.onnx" > "$WORK/session.txt" 2>&1; then
    SESSION_OK=1
  else
    missing "the CUDA EP did not load: $(tail -1 "$WORK/session.txt")"
  fi
  step cuda-session $([ "$SESSION_OK" = 1 ] && echo ok || echo failed) $(( $(date +%s) - t0 )) "$WORK/session.txt"
else
  echo "skipped: no driver or no EP" > "$WORK/session.txt"
  step cuda-session skipped 0 "$WORK/session.txt"
fi

FAILED=0
# 4. engine golden tests with the CUDA provider
t0=$(date +%s)
if [ "$SESSION_OK" = 1 ]; then
  if OMNICAP_ENGINE_TEST_PROVIDER=cuda timeout $(( $(left) / 3 )) npx jest test/engine/golden.test.ts > "$WORK/golden.txt" 2>&1; then st=ok; else st=failed; FAILED=1; fi
  step golden-cuda "$st" $(( $(date +%s) - t0 )) "$WORK/golden.txt"
else
  echo "skipped: the CUDA EP cannot load" > "$WORK/golden.txt"; step golden-cuda skipped 0 "$WORK/golden.txt"
fi

# 5. the KV cache resident on the device (native IO-binding addon, present.* bound to CUDA memory):
#    identical logits and caption streams against the JS path on the CUDA EP
t0=$(date +%s)
if [ "$SESSION_OK" = 1 ]; then
  if OMNICAP_ENGINE_TEST_PROVIDER=cuda timeout $(( $(left) / 3 )) npx jest test/engine/resident.test.ts > "$WORK/kv.txt" 2>&1; then st=ok; else st=failed; FAILED=1; fi
  step kv-resident-cuda "$st" $(( $(date +%s) - t0 )) "$WORK/kv.txt"
else
  echo "skipped: the CUDA EP cannot load" > "$WORK/kv.txt"; step kv-resident-cuda skipped 0 "$WORK/kv.txt"
fi

# 6. omnicap bench CPU vs CUDA: stages, TTFT, decode step vs context on the JS and the resident KV path
t0=$(date +%s)
if [ "$SESSION_OK" = 1 ]; then
  if timeout $(( $(left) - 20 )) node dist/src/cli/main.js bench --model "$MODEL" --providers cpu,cuda --runs 3 --warmup 1 --max-tokens 32 \
      --kv-past 0,512,1024,2048,4096 --runtimes none --json "$WORK/bench.json" > "$WORK/bench.txt" 2>&1; then st=ok; else st=failed; FAILED=1; fi
  step bench-cpu-vs-cuda "$st" $(( $(date +%s) - t0 )) "$WORK/bench.txt"
else
  echo "skipped: the CUDA EP cannot load" > "$WORK/bench.txt"; step bench-cpu-vs-cuda skipped 0 "$WORK/bench.txt"
fi

node -e '
  const fs = require("fs");
  const [dir, out, model, ver, bin] = process.argv.slice(1);
  const lines = (f) => fs.readFileSync(`${dir}/${f}`, "utf8").split("\n").filter((l) => l.length > 0);
  const bench = fs.existsSync(`${dir}/bench.json`) ? JSON.parse(fs.readFileSync(`${dir}/bench.json`, "utf8")) : null;
  const steps = lines("steps.jsonl").map((l) => JSON.parse(l));
  const missing = lines("missing.txt");
  const report = { kind: "omnicap-gpu-check", version: 1, createdAt: new Date().toISOString(), onnxruntimeNode: ver, bindingDir: bin, model,
    usable: missing.length === 0 && steps.every((s) => s.status !== "failed"), missing, steps, bench };
  fs.writeFileSync(out, JSON.stringify(report, null, 2) + "\n");
' "$WORK" "$OUT" "$MODEL" "$ORT_VERSION" "$BIN"
echo "gpu-check: wrote $OUT in $(( $(date +%s) - START )) s" >&2
if [ "$SESSION_OK" != 1 ]; then exit 2; fi
exit $FAILED
