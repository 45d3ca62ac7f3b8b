//! Rebuild the binary when an embedded template or asset changes (include_dir cannot tell cargo).
// cargo: instructions are printed (clippy.toml disallows printing macros in the binary).
#![allow(clippy::disallowed_macros)]

fn main() {
    println!("cargo:rerun-if-changed=../templates");
    println!("cargo:rerun-if-changed=assets");
}
