//! The deterministic executor, Linux-semantics primitives, schedulers,
//! oracles and traces.
