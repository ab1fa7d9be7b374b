//! Links the `baton` executable as a fixed-address (non-PIE) program.
//!
//! Every `baton` an agent or a person types is a fresh process, so start-up is paid per command.
//! As a position-independent executable the binary carries ≈ 51,000 relative relocations that the
//! dynamic loader applies at every start, dirtying ≈ 330 pages of data: measured here, `baton
//! --version` took 1.9 ms as PIE and 1.2 ms fixed (`/bin/true`: 0.55 ms). Packing the relocations
//! (`-z pack-relative-relocs`) did not help, since the pages are written either way. The shared
//! libraries, heap and stacks stay randomized; only the executable's own image loses ASLR.
fn main() {
    println!("cargo:rustc-link-arg-bins=-no-pie");
}
