//! Simulated kernel code paths, as async functions named like the kernel's.
