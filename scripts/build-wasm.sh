#!/usr/bin/env bash
# Build pkg/ (the browser build of the engine) and pkg-lite/ (the page's
# scenario module) and report their sizes.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
# History (until 2026-12-06 there was one module, built for size, opt-level s;
# native builds keep 3): the page downloads it; the budget is 400 KB gzipped. Measured 2026-11-21
# with names stripped: before the kernel paths, opt-level 3 394 KB, s 348 KB;
# with engine + kernel linked in, s 596 KB (over budget). With all five
# scenarios' kernel paths and the disk view (2026-11-21): s 630 KB,
# z 568 KB, but z explores 1.5x slower (scripts/bench-scenario-wasm.mjs:
# S5's fixed variant, exhaustive DFS+DPOR, 61503 executions: s 25.2 s,
# z 38.5 s), so s stays the default. target/ext4lab-size.txt says what spends
# the bytes. Then: the library and the storage bench share one engine
# instantiation (DevRef<dyn BlockDevice>), and the worker's messages are read
# as `cmd` + a plain request struct instead of internally tagged enums
# (serde's Content buffering was compiled once per variant): s 617 KB.
# 2026-12-06 (more engine, kernel and storage since): s 883 KB; with
# wasm-opt (below) 874 KB. fsck and the storage bench's timed device then
# opened the engine over DevRef<dyn BlockDevice> too (they had their own
# copies): 2,602,203 raw, 870,620 gz (-38 KB raw, -3.4 KB gz: gzip had
# already folded most of the copies).
#
# 2026-12-06: the page now becomes interactive on the scenario module
# (pkg-lite/, the `lite` feature: scenario text, share links, the kernel
# history; see crate/wasm/mod.rs), and loads the engine module after. So the
# engine is built for speed and the scenario module for size. Measured with
# names stripped, wasm-opt as below, scripts/bench-scenario-wasm.mjs (S5
# jan-dio-begin-early, DFS 4,109 executions; PCT 2,000 runs; two runs each):
#   engine  opt-level s   2,622,437 raw, 876,895 gz, DFS 1.99 s, PCT 168 ms
#   engine  opt-level 3   2,935,937 raw, 1,060,616 gz, DFS 1.59-1.66 s, PCT 142 ms
#   engine  3, wasm-opt -O3 (inlining) 1,103,698 gz, DFS 1.85-1.88 s (slower)
#   scenario module: s 315,495 gz, z 296,001 gz
# WASM_OPT_LEVEL (engine, default 3) and WASM_LITE_OPT_LEVEL (scenario
# module, default z) override. Each level keeps its own compiled
# dependencies in target/ (the first build compiles them twice).
build() { # build OUT_DIR OUT_NAME [cargo args...]
  local out=$1 name=$2
  shift 2
  wasm-pack build --target web --release --mode no-install --no-pack --out-dir "$out" --out-name "$name" -- "$@" 2>&1 \
    | grep -v "failed to get wasm-pack version" >&2 || true
  local wasm=$out/${name}_bg.wasm
  [ -f "$wasm" ] || { echo "build-wasm: $wasm was not produced" >&2; exit 1; }
  # wasm-opt (binaryen 132, the npm devDependency: node_modules/.bin/wasm-opt)
  # with -Oz's passes but no inlining (-aimfs/-fimfs/-ocimfs 0): measured
  # 2026-12-06, S5 bench (scripts/bench-scenario-wasm.mjs, DFS 4109 executions,
  # PCT 2000 runs; mean of 4 alternating runs on a shared 2-core machine):
  #   none                      2,854,334 raw, 883,285 gz, DFS 4.02 s, PCT 458 ms
  #   -Oz -O*imfs 0 (default)   2,640,284 raw, 874,175 gz, DFS 3.90 s, PCT 438 ms
  #   -Oz / -Os / -O3           2,638,917 / 2,652,180 / 2,679,336 raw,
  #                             989,563 / 989,412 / 992,431 gz (inlining the
  #                             one-caller functions costs ~105 KB gzipped)
  # Debian's binaryen 108 mis-optimised the externref table wasm-bindgen
  # 0.2.130 emits (the page failed at start with "WebAssembly.Table.set():
  # Argument 1 is invalid for table"; the e2e test catches this); 132 does not.
  # -g keeps the names for the size report below. WASM_OPT=0 skips it.
  if [ "${WASM_OPT:-1}" = 1 ]; then
    [ -x node_modules/.bin/wasm-opt ] || { echo "build-wasm: no node_modules/.bin/wasm-opt (scripts/setup.sh build, or WASM_OPT=0)" >&2; exit 1; }
    node_modules/.bin/wasm-opt -Oz -aimfs 0 -fimfs 0 -ocimfs 0 -g \
      --enable-bulk-memory --enable-sign-ext --enable-mutable-globals \
      --enable-nontrapping-float-to-int --enable-reference-types --enable-multivalue \
      "$wasm" -o "$wasm.opt"
    mv "$wasm.opt" "$wasm"
  fi
  # What spends the bytes, read while the names are still there:
  # target/NAME-size.txt (sections, code per crate/module, largest functions).
  # The named module is kept as target/NAME_bg.named.wasm to re-run it.
  cp "$wasm" "target/${name}_bg.named.wasm"
  node scripts/wasm-size.mjs "$wasm" --top 40 --depth 2 > "target/${name}-size.txt" \
    && sed -n '/^code by crate/,/^$/p' "target/${name}-size.txt" | head -14 >&2 \
    || echo "build-wasm: size report failed (see scripts/wasm-size.mjs)" >&2
  # The "name" section (function names for stack traces) is a fifth of the
  # gzipped module; the page does not need it. WASM_KEEP_NAMES=1 keeps it.
  if [ "${WASM_KEEP_NAMES:-0}" != 1 ]; then
    node scripts/wasm-strip-names.mjs "$wasm"
  fi
  local raw gz
  raw=$(stat -c %s "$wasm")
  gz=$(gzip -9 -c "$wasm" | wc -c)
  echo "wasm size: $raw bytes raw, $gz bytes gzip ($wasm)"
}
CARGO_PROFILE_RELEASE_OPT_LEVEL=${WASM_OPT_LEVEL:-3} build pkg ext4lab
CARGO_PROFILE_RELEASE_OPT_LEVEL=${WASM_LITE_OPT_LEVEL:-z} build pkg-lite ext4lab_lite --features lite
