#!/usr/bin/env bash
# Build pkg/ (the browser build of the engine) and report its size.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
wasm-pack build --target web --release --mode no-install --no-pack 2>&1 | grep -v "failed to get wasm-pack version" >&2 || true
wasm=pkg/ext4lab_bg.wasm
[ -f "$wasm" ] || { echo "build-wasm: $wasm was not produced" >&2; exit 1; }
# wasm-opt is opt-in (WASM_OPT=1): Debian's binaryen 108 mis-optimises the
# externref table wasm-bindgen 0.2.130 emits, and the page then fails at start
# with "WebAssembly.Table.set(): Argument 1 is invalid for table" (the e2e test
# catches this). Re-check when a newer binaryen is available.
if [ "${WASM_OPT:-0}" = 1 ] && command -v wasm-opt >/dev/null; then
  wasm-opt -Os --enable-bulk-memory --enable-sign-ext --enable-mutable-globals \
    --enable-nontrapping-float-to-int --enable-reference-types --enable-multivalue \
    "$wasm" -o "$wasm.opt" && mv "$wasm.opt" "$wasm"
fi
raw=$(stat -c %s "$wasm")
gz=$(gzip -9 -c "$wasm" | wc -c)
echo "wasm size: $raw bytes raw, $gz bytes gzip ($wasm)"
