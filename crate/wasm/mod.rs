//! The only Rust that knows JavaScript: opaque handles, plain data out.
