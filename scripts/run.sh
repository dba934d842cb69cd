#!/usr/bin/env bash
# Builds and runs MAXX — the README's run command: `maxx demo` (all agents in one process on a
# synthetic market, no broker). Installs missing system packages first (scripts/setup.sh).
# Arguments go to maxx instead (e.g. `scripts/run.sh agent alpha`, `scripts/run.sh --help`).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/maxx/target}"
if [ "$#" -eq 0 ]; then set -- demo; fi
exec cargo run --quiet --release --locked --bin maxx -- "$@"
