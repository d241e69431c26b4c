//! Builds the release bundle into `dist/`: the app for wasm32 with the size-first `web`
//! profile, wasm-bindgen, npm binaryen's wasm-opt, then `public/` and `style/` copied beside it.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use crate::{root, run};

/// Sizes of the finished bundle, in bytes.
#[derive(Debug)]
pub struct BundleSize {
    pub raw: u64,
    pub gzip: u64,
}

pub fn build() -> Result<BundleSize, String> {
    let root = root();
    let dist = root.join("dist");
    run(
        "cargo",
        &[
            "build",
            "--quiet",
            "-p",
            "chainlens-app",
            "--target",
            "wasm32-unknown-unknown",
            "--profile",
            "web",
        ],
    )?;
    let _ = std::fs::remove_dir_all(&dist);
    let pkg = dist.join("pkg");
    std::fs::create_dir_all(&pkg).map_err(|e| format!("creating dist/: {e}"))?;
    let wasm = root.join("target/wasm32-unknown-unknown/web/chainlens-app.wasm");
    run(
        "wasm-bindgen",
        &[
            &wasm.to_string_lossy(),
            "--target",
            "web",
            "--no-typescript",
            "--out-name",
            "chainlens",
            "--out-dir",
            &pkg.to_string_lossy(),
        ],
    )?;
    let bg = pkg.join("chainlens_bg.wasm");
    let bg = bg.to_string_lossy();
    // npm's binaryen, never Debian's: Debian's 108 emits a bundle that dies at start-up.
    run("node_modules/.bin/wasm-opt", &["-Oz", &bg, "-o", &bg])?;
    copy_dir(&root.join("public"), &dist)?;
    let mut css = String::new();
    let mut sheets: Vec<PathBuf> = read_dir(&root.join("style"))?;
    sheets.sort();
    for sheet in sheets
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "css"))
    {
        css.push_str(
            &std::fs::read_to_string(sheet).map_err(|e| format!("{}: {e}", sheet.display()))?,
        );
        css.push('\n');
    }
    std::fs::write(dist.join("style.css"), css).map_err(|e| format!("writing style.css: {e}"))?;
    let size = measure(&dist)?;
    eprintln!(
        "xtask: bundle dist/: {:.0} KB, {:.0} KB gzip (app code: {:.0} KB gzip; goal: under 800 KB gzip in all)",
        size.raw as f64 / 1024.0,
        size.gzip as f64 / 1024.0,
        gzip_len(&std::fs::read(&*bg).unwrap_or_default()) as f64 / 1024.0
    );
    Ok(size)
}

fn read_dir(dir: &Path) -> Result<Vec<PathBuf>, String> {
    Ok(std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect())
}

fn copy_dir(from: &Path, to: &Path) -> Result<(), String> {
    std::fs::create_dir_all(to).map_err(|e| format!("{}: {e}", to.display()))?;
    for path in read_dir(from)? {
        let target = to.join(path.file_name().unwrap_or_default());
        if path.is_dir() {
            copy_dir(&path, &target)?;
        } else {
            std::fs::copy(&path, &target).map_err(|e| format!("{}: {e}", path.display()))?;
        }
    }
    Ok(())
}

/// Total and gzip size of every file under `dir`.
fn measure(dir: &Path) -> Result<BundleSize, String> {
    let mut size = BundleSize { raw: 0, gzip: 0 };
    for path in read_dir(dir)? {
        if path.is_dir() {
            let inner = measure(&path)?;
            size.raw += inner.raw;
            size.gzip += inner.gzip;
        } else {
            let bytes = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            size.raw += bytes.len() as u64;
            size.gzip += gzip_len(&bytes);
        }
    }
    Ok(size)
}

fn gzip_len(bytes: &[u8]) -> u64 {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let _ = encoder.write_all(bytes);
    encoder.finish().map_or(0, |v| v.len() as u64)
}
