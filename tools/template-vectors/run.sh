#!/usr/bin/env bash
# `npm run template-vectors`: renders cases.yaml with External Secrets Operator's own template engine
# into test/fixtures/template-vectors.json (the truth test/unit/template-vectors.test.ts holds the
# TypeScript engine to), then has ESO open the PKCS#12 files the TypeScript engine makes (they are
# random by design, so no vector can hold their bytes). Not part of `npm test`: run it after
# changing cases.yaml, testdata/ or the Go module, and commit the JSON.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
vectors=$root/test/fixtures/template-vectors.json
export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=readonly
bin=${XDG_CACHE_HOME:-$HOME/.cache}/thalassa-secrets-operator/template-vectors
mkdir -p "$bin"
(cd "$here" && go build -trimpath -o "$bin/template-vectors" .)
(cd "$here" && "$bin/template-vectors" -cases cases.yaml -out "$vectors")
outputs=$(mktemp)
trap 'rm -f "$outputs"' EXIT
node "$here/ts-outputs.js" "$vectors" > "$outputs"
"$bin/template-vectors" -vectors "$vectors" -verify-ts "$outputs"
