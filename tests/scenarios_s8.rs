//! S8 data-journal-mmap (v5.5, 64a9f1449950): every row of the table,
//! explored to completion under the scenario's bound 2 (422 and 430
//! executions: cheap enough for every debug run). The v5.5 loss is the
//! model's reading of the v5.5 code, not a report confirmed on a running
//! kernel (docs/oracles.md).

mod kernel_common;

fn run(variant: &str) {
    kernel_common::assert_rows(kernel_common::check_rows("s8", variant, |_| true, 100_000));
}

#[test]
fn s8_v5_5() {
    run("v5.5");
}

#[test]
fn s8_64a9f1449950() {
    run("64a9f1449950");
}

#[test]
fn s8_v5_10() {
    run("v5.10");
}
