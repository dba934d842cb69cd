#!/usr/bin/env bash
# Runs every MAXX test against a real Kafka broker — the README's test command, and what CI
# runs (.ci/run). Installs missing system packages (scripts/setup.sh); unless MAXX_BOOTSTRAP
# already points at a broker (Redpanda or Kafka), starts a single-node Kafka with
# scripts/kafka.sh on a free port for the run and stops it afterwards.
# Before `cargo test`, validates the deployment files offline (scripts/validate-deploy.sh:
# strict Kubernetes decoding, kube-score, the Compose specification).
# Extra arguments go to `cargo test` (e.g. `scripts/test.sh -p maxx-events`).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh

# One target dir outside the clone, shared by every checkout and run: librdkafka is built
# once, not once per clone.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/maxx/target}"

if [ -z "${MAXX_BOOTSTRAP:-}" ]; then
  KAFKA_PORT="${KAFKA_PORT:-$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}"
  export KAFKA_PORT
  trap 'scripts/kafka.sh stop >&2 || true' EXIT
  MAXX_BOOTSTRAP="$(scripts/kafka.sh start)"
  export MAXX_BOOTSTRAP
  echo "test: Kafka broker at $MAXX_BOOTSTRAP" >&2
else
  echo "test: using the broker at MAXX_BOOTSTRAP=$MAXX_BOOTSTRAP" >&2
fi

scripts/validate-deploy.sh && cargo test --workspace --locked "$@"
