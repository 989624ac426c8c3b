#!/usr/bin/env bash
# The test command (`npm test`): static checks, then every Vitest project, then the summary line.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

status=0
step() {
  local name=$1; shift
  echo "== $name"
  if ! "$@"; then echo "!! $name failed"; status=1; fi
}

step "lint" npx --no-install eslint --max-warnings 0 .
step "typecheck" npx --no-install tsc --noEmit
step "control plane binaries" bash tools/control-plane/build.sh

rm -f reports/vitest.json
mkdir -p reports
echo "== vitest"
npx --no-install vitest run --reporter=default --reporter=json --outputFile.json=reports/vitest.json || status=1
node scripts/test-summary.ts reports/vitest.json || status=1
exit $status
