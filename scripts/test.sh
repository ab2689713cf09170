#!/usr/bin/env bash
# Run every test group (or the ones named), then print one summary line.
#   scripts/test.sh                 all groups
#   scripts/test.sh native wasm     just those
# Groups: lint (fmt, clippy) native wasm e2e (build pkg/ and dist/, tsc, the protocol's
#   types against Rust's answers, page tests)
#   tables (every row of every scenario table, exhaustive under the bound,
#   in an optimized build: profile `tables`). Logs: target/test-logs/<group>.log
set -uo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
export CHROMEDRIVER=${CHROMEDRIVER:-/usr/bin/chromedriver}
export WASM_BINDGEN_TEST_TIMEOUT=${WASM_BINDGEN_TEST_TIMEOUT:-120}
# Incremental state is of no use to a run from a clean clone (CI) and took
# about 5 GB of target/ (native and wasm32 together); a developer who runs the
# groups again and again can set CARGO_INCREMENTAL=1.
export CARGO_INCREMENTAL=${CARGO_INCREMENTAL:-0}
logs=target/test-logs
mkdir -p "$logs"

groups=("$@")
[ ${#groups[@]} -eq 0 ] && groups=(lint native wasm tables e2e)

passed=0 failed=0 stage_ok=() stage_bad=()

# Count results from the runners' own closing lines in a log.
count() {
  local log=$1 p f
  # cargo test and wasm-bindgen-test-runner: "test result: ok. 3 passed; 0 failed; ..."
  p=$(grep -Eo '^test result: [a-zA-Z]+\. [0-9]+ passed' "$log" | awk '{s+=$4} END {print s+0}')
  f=$(grep -Eo '; [0-9]+ failed' "$log" | awk '{s+=$2} END {print s+0}')
  # node --test: "# pass N" / "# fail N"
  p=$((p + $(grep -E '^# pass [0-9]+' "$log" | awk '{s+=$3} END {print s+0}')))
  f=$((f + $(grep -E '^# fail [0-9]+' "$log" | awk '{s+=$3} END {print s+0}')))
  passed=$((passed + p)); failed=$((failed + f))
}

stage() {
  local name=$1; shift
  local log="$logs/$name.log" t0=$SECONDS
  echo "=== $name: $*"
  if "$@" > >(tee "$log") 2>&1; then
    stage_ok+=("$name"); echo "=== $name: ok ($((SECONDS - t0)) s)"
  else
    stage_bad+=("$name"); echo "=== $name: FAILED ($((SECONDS - t0)) s), log in $log"
  fi
  count "$log"
}

wasm_tests() {
  # Browser test files are tests/web*.rs (run_in_browser) and tests/worker*.rs
  # (run_in_dedicated_worker); every other tests/*.rs is native-only.
  local args=()
  for f in tests/web*.rs tests/worker*.rs; do [ -f "$f" ] && args+=(--test "$(basename "$f" .rs)"); done
  # chromedriver makes a ~70 MB profile directory in $TMPDIR for every test
  # binary and leaves it behind when the runner ends the session; keep them in
  # a scratch directory that goes when the stage ends.
  local scratch rc
  scratch=$(mktemp -d "${TMPDIR:-/tmp}/ext4lab-wasm-tests.XXXXXX")
  TMPDIR=$scratch wasm-pack test --headless --chrome --chromedriver "$CHROMEDRIVER" --mode no-install -- "${args[@]}"
  rc=$?
  rm -rf "$scratch"
  return $rc
}

tables_tests() {
  # The scenario table tests (the full tables are #[ignore]d: minutes in a
  # debug build, seconds to a minute per variant optimized). Profile
  # `tables` = release without LTO, so it compiles in a fraction of the time.
  local args=()
  for t in punch_vs_fault_history scenario_rows sim_equivalent_schedules lock_order_conformance distributed_cli oracle_legit oracle_findings scenario_fuzz fsck_features fsck_random sim_step_check; do
    [ -f "tests/$t.rs" ] && args+=(--test "$t")
  done
  cargo test --profile tables --no-fail-fast "${args[@]}" -- --include-ignored
}

for g in "${groups[@]}"; do
  case "$g" in
    lint)
      stage fmt cargo fmt --all -- --check
      stage clippy cargo clippy --all-targets -- -D warnings
      stage clippy-wasm cargo clippy --target wasm32-unknown-unknown --lib --tests -- -D warnings
      # The page's scenario module (pkg-lite/) is the same crate with `lite`.
      stage clippy-wasm-lite cargo clippy --target wasm32-unknown-unknown --lib --features lite -- -D warnings
      ;;
    native) stage native cargo test --all-targets --no-fail-fast ;;
    wasm) stage wasm wasm_tests ;;
    tables) stage tables tables_tests ;;
    e2e)
      stage build-wasm scripts/build-wasm.sh
      # The page's types import pkg/ (generated), so this runs after build-wasm.
      stage typecheck npx tsc --noEmit -p .
      # web/protocol.ts's answer types against the Rust serde output (needs tsc).
      stage protocol-types cargo test --test protocol_types -- --include-ignored
      stage build-web npx vite build
      stage e2e node --test tests/e2e/
      ;;
    *) echo "unknown test group: $g (lint native wasm tables e2e)" >&2; exit 2 ;;
  esac
done

echo
echo "stages ok: ${stage_ok[*]:-none}"
[ ${#stage_bad[@]} -gt 0 ] && echo "stages FAILED: ${stage_bad[*]}"
# A failing stage counts as a failure even when its runner printed no count
# (fmt, clippy, a build).
[ ${#stage_bad[@]} -gt 0 ] && [ "$failed" -eq 0 ] && failed=${#stage_bad[@]}
echo "summary: $passed passed, $failed failed"
[ ${#stage_bad[@]} -eq 0 ]
