//! Rebuild the binary when an embedded template or asset changes (include_dir cannot tell cargo).
fn main() {
    println!("cargo:rerun-if-changed=../templates");
    println!("cargo:rerun-if-changed=assets");
}
