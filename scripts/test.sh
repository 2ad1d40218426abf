#!/usr/bin/env bash
# Set up everything (idempotent) and run the whole test suite. The last line is
# "N passed, N failed" (jest test cases).
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh || { echo "0 passed, 1 failed"; exit 1; }
report="$(mktemp -t omnicap-jest-XXXXXX.json)"
npx jest --ci --json --outputFile="$report" "$@"
rc=$?
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const failedSuites = r.numRuntimeErrorTestSuites || 0;
  console.log(`${r.numPassedTests} passed, ${r.numFailedTests + failedSuites} failed`);
' "$report" || echo "0 passed, 1 failed"
rm -f "$report"
exit $rc
