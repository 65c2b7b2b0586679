//! Generates include/grazr_proc.h from src/ffi with cbindgen, writing it only when its bytes
//! change (so a build never dirties a clean tree), and gives the shared library its SONAME.

use std::env;
use std::fs;
use std::path::PathBuf;

fn main() {
    let dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let major = env::var("CARGO_PKG_VERSION_MAJOR").expect("cargo sets the version");
    let minor = env::var("CARGO_PKG_VERSION_MINOR").expect("cargo sets the version");
    let patch = env::var("CARGO_PKG_VERSION_PATCH").expect("cargo sets the version");

    // While the version is 0.x every minor release may break the ABI, so it is in the SONAME.
    let soname = if major == "0" {
        format!("libgrazr_proc.so.0.{minor}")
    } else {
        format!("libgrazr_proc.so.{major}")
    };
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,{soname}");
    println!("cargo:rerun-if-changed=src/ffi");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    println!("cargo:rerun-if-changed=build.rs");

    let mut config =
        cbindgen::Config::from_file(dir.join("cbindgen.toml")).expect("cbindgen.toml parses");
    let versions = format!(
        "\n#define GRAZR_PROC_VERSION_MAJOR {major}\n#define GRAZR_PROC_VERSION_MINOR {minor}\n\
         #define GRAZR_PROC_VERSION_PATCH {patch}\n#define GRAZR_PROC_VERSION \"{major}.{minor}.{patch}\"\n\
         #define GRAZR_PROC_SONAME \"{soname}\""
    );
    config.after_includes = Some(config.after_includes.unwrap_or_default() + &versions);

    let bindings = cbindgen::Builder::new()
        .with_config(config)
        .with_src(dir.join("src/ffi/mod.rs"))
        .generate()
        .expect("cbindgen generates the header");
    let mut text = Vec::new();
    bindings.write(&mut text);
    let header = dir.join("include/grazr_proc.h");
    if fs::read(&header).ok().as_deref() != Some(&text[..]) {
        fs::create_dir_all(dir.join("include")).expect("include/ can be created");
        fs::write(&header, &text).expect("include/grazr_proc.h can be written");
    }
}
