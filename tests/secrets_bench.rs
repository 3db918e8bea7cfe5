//! The measuring half of scripts/bench-secrets (ignored: a measurement, not a test; the script
//! runs it in release mode and sets it side by side with sha256sum and peers).
//!
//! Times, three runs each, interleaved, medians printed as `NAME SECONDS`:
//! - `folder`: the scanner alone over the files of `SEALKIT_BENCH_ROOT` (one thread, as in the
//!   pass; the page cache warm);
//! - `pass-without`, `pass-with`: flattening the store image `SEALKIT_BENCH_IMAGE` without a
//!   tap and with the scanner riding on it: the difference is what the scanner adds to a scan.
//!
//! Then the scanner's counts, and its findings as JSON to `SEALKIT_BENCH_OUT`.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use sealkit::image::rootfs::NoTap;
use sealkit::image::{self, ImageRef, Platform, Rootfs, Store};
use sealkit::inspect::secrets::{SecretScanner, Secrets};

fn median(mut runs: Vec<Duration>) -> f64 {
    runs.sort();
    runs[runs.len() / 2].as_secs_f64()
}

#[test]
#[ignore = "a benchmark: scripts/bench-secrets runs it"]
fn bench_secrets() {
    let var = |name: &str| std::env::var(name).unwrap_or_else(|_| panic!("{name} is not set"));
    let root = PathBuf::from(var("SEALKIT_BENCH_ROOT"));
    let reference: ImageRef = var("SEALKIT_BENCH_IMAGE").parse().expect("an image reference");
    let store = Store::open(&Store::default_location()).expect("the store ($SEALKIT_STORE)");
    let platform: Platform = "linux/amd64".parse().expect("a platform");
    let resolved = image::resolve(&store, &reference, &platform, Path::new(".")).expect("the image is in the store");

    let (mut folder, mut without, mut with) = (Vec::new(), Vec::new(), Vec::new());
    let mut secrets = Secrets::default();
    let mut largest = 0;
    for _ in 0..3 {
        let start = Instant::now();
        let mut scanner = SecretScanner::new();
        scanner.scan_tree(&root).expect("the folder is readable");
        largest = scanner.largest_buffer();
        secrets = scanner.finish();
        folder.push(start.elapsed());

        let start = Instant::now();
        Rootfs::flatten_tapped(&store, &resolved, &mut NoTap).expect("the image flattens");
        without.push(start.elapsed());

        let start = Instant::now();
        let mut scanner = SecretScanner::new();
        let rootfs = Rootfs::flatten_tapped(&store, &resolved, &mut scanner).expect("the image flattens");
        scanner.finish_in(&rootfs);
        with.push(start.elapsed());
    }
    println!("folder {:.3}", median(folder));
    println!("pass-without {:.3}", median(without));
    println!("pass-with {:.3}", median(with));
    println!(
        "files {} binary {} bytes {} largest-buffer {} findings {} notes {}",
        secrets.files,
        secrets.binary_files,
        secrets.bytes,
        largest,
        secrets.findings.len(),
        secrets.notes.len()
    );
    let out = var("SEALKIT_BENCH_OUT");
    std::fs::write(&out, serde_json::to_vec_pretty(&secrets).expect("findings serialise")).expect("the output file");
}
