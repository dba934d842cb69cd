#!/usr/bin/env bash
# Installs what building and testing MAXX needs on a fresh Debian machine, and nothing when
# it is already there: the C toolchain and headers that librdkafka (bundled in rdkafka-sys)
# builds with, and Java 17 with Maven for the Kafka broker of scripts/kafka.sh.
# Rust itself must already be installed (rustup), and Go (1.26 or newer, for the deployment
# validators of scripts/validate-deploy.sh); this script says so when one is not.
set -euo pipefail

packages=(build-essential pkg-config libssl-dev zlib1g-dev python3 openjdk-17-jre-headless maven)

missing=()
for pkg in "${packages[@]}"; do
  # A JDK/JRE or Maven installed outside apt (e.g. by an SDK manager) counts as present.
  case "$pkg" in
    openjdk-17-jre-headless) command -v java >/dev/null 2>&1 && continue ;;
    maven) command -v mvn >/dev/null 2>&1 && continue ;;
    python3) command -v python3 >/dev/null 2>&1 && continue ;;
  esac
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done

if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}" >&2
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || { echo "setup: need root (or sudo) to install ${missing[*]}" >&2; exit 1; }
    sudo="sudo"
  fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

if ! command -v cargo >/dev/null 2>&1; then
  echo "setup: cargo not found: install Rust with rustup (https://rustup.rs), 1.89 or newer" >&2
  exit 1
fi

if ! command -v go >/dev/null 2>&1; then
  echo "setup: go not found: install Go 1.26 or newer (https://go.dev/dl/); scripts/validate-deploy.sh needs it" >&2
  exit 1
fi
