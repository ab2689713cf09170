//! The native command-line tool.
#[cfg(not(target_arch = "wasm32"))]
fn main() {
    println!("ext4lab {}", ext4lab::VERSION);
}

#[cfg(target_arch = "wasm32")]
fn main() {}
