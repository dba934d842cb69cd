#!/usr/bin/env bash
# Builds and runs the maxx binary — the README's run command. Installs missing system
# packages first (scripts/setup.sh). Arguments go to maxx (default: --help).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/maxx/target}"
if [ "$#" -eq 0 ]; then set -- --help; fi
exec cargo run --quiet --release --locked --bin maxx -- "$@"
