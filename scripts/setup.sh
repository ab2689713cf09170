#!/usr/bin/env bash
# Idempotent set-up for ext4lab. Installs only what is missing.
#   scripts/setup.sh build   -> wasm32 target, exact wasm-bindgen-cli, wasm-pack, npm packages
#   scripts/setup.sh test    -> the above plus apt packages for tests (e2fsprogs, chromium, ...)
set -euo pipefail
cd "$(dirname "$0")/.."
what="${1:-build}"

log() { printf '[setup] %s\n' "$*" >&2; }

# The wasm-bindgen version is pinned with "=X" in Cargo.toml; the CLI must match exactly.
WASM_BINDGEN_VERSION=$(sed -n 's/^wasm-bindgen = { *version = "=\([0-9.]*\)".*/\1/p; s/^wasm-bindgen = "=\([0-9.]*\)".*/\1/p' Cargo.toml | head -n1)
WASM_PACK_VERSION=0.15.1

export PATH="$HOME/.cargo/bin:$PATH"

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    log "need root for: $*"; return 1; fi
}

apt_install() {
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "apt-get install ${missing[*]}"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

setup_build() {
  if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    log "rustup target add wasm32-unknown-unknown"
    rustup target add wasm32-unknown-unknown
  fi
  if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$WASM_BINDGEN_VERSION" ]; then
    log "cargo install wasm-bindgen-cli $WASM_BINDGEN_VERSION (takes a few minutes)"
    # No --locked: the registry mirror lacks some locked versions (shared/TOOLCHAIN.md).
    cargo install -q wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --force
  fi
  if [ "$(wasm-pack --version 2>/dev/null | awk '{print $2}')" != "$WASM_PACK_VERSION" ]; then
    log "cargo install wasm-pack $WASM_PACK_VERSION (takes a few minutes)"
    cargo install -q wasm-pack --version "$WASM_PACK_VERSION" --locked --force
  fi
  if [ -f package-lock.json ] && { [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; }; then
    log "npm ci"
    npm ci --no-audit --no-fund --loglevel=error
  fi
}

setup_test() {
  apt_install e2fsprogs chromium chromium-driver
  setup_build
}

case "$what" in
  build) setup_build ;;
  test) setup_test ;;
  *) echo "usage: $0 build|test" >&2; exit 2 ;;
esac
