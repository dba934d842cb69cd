#!/usr/bin/env bash
# Validates the deployment files offline with real validators (deploy/validate/main.go):
# every deploy/base/*.yaml document decoded strictly into its Kubernetes API type, the
# kustomize rendering of deploy/ scored by kube-score (no CRITICAL findings), and
# docker-compose.yml loaded against the Compose specification. Exits non-zero on any problem.
# Go's module and build caches live under ~/.cache/maxx/go, so reruns are fast.
set -euo pipefail
cd "$(dirname "$0")/.."

command -v go >/dev/null 2>&1 || { echo "validate-deploy: go not found (scripts/setup.sh says how to get it)" >&2; exit 1; }

cache="$HOME/.cache/maxx/go"
export GOCACHE="$cache/build" GOMODCACHE="$cache/mod" GOBIN="$cache/bin" GOFLAGS="-mod=readonly -buildvcs=false" GOTOOLCHAIN=local
mkdir -p "$GOBIN"

# kube-score as its own module build: its library needs older k8s.io/api packages than ours.
kube_score="$GOBIN/kube-score"
if ! go version -m "$kube_score" 2>/dev/null | grep -qE '^\s+mod\s+github\.com/zegl/kube-score\s+v1\.20\.0\s'; then
  go install github.com/zegl/kube-score/cmd/kube-score@v1.20.0
fi

# The validator's own tests first (each check rejects a broken input), then the real run,
# which prints every problem it finds.
cd deploy/validate
MAXX_KUBE_SCORE="$kube_score" go test -count=1 .
go run . -kube-score "$kube_score" ../..
