//! Any bytes as the one layer of a container image, built into an OS image beside a valid
//! kernel: flattening, cataloging, the LinuxKit layout and the tar, cpio and gzip writers must
//! refuse what is corrupt or hostile with an error, never panic, and never write outside the
//! output folder.
#![no_main]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use sealkit::build::{self, Format, Request};
use sealkit::image::lock::Resolver;
use sealkit::image::{Platform, Store};
use sealkit::plan::{self, Allowance};

fn digest(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    format!("sha256:{}", hex::encode(sha2::Sha256::digest(bytes)))
}

/// An OCI layout of one image whose one layer is `layer` (uncompressed).
fn layout(dir: &Path, layer: &[u8]) {
    let blobs = dir.join("blobs/sha256");
    std::fs::create_dir_all(&blobs).unwrap();
    let put = |bytes: &[u8]| {
        let d = digest(bytes);
        std::fs::write(blobs.join(&d[7..]), bytes).unwrap();
        (d, bytes.len())
    };
    let (layer_digest, layer_size) = put(layer);
    let config = format!(
        r#"{{"architecture":"amd64","os":"linux","rootfs":{{"type":"layers","diff_ids":["{layer_digest}"]}}}}"#
    );
    let (config_digest, config_size) = put(config.as_bytes());
    let manifest = format!(
        r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{config_digest}","size":{config_size}}},"layers":[{{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"{layer_digest}","size":{layer_size}}}]}}"#
    );
    let (manifest_digest, manifest_size) = put(manifest.as_bytes());
    let index = format!(
        r#"{{"schemaVersion":2,"manifests":[{{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{manifest_digest}","size":{manifest_size},"annotations":{{"org.opencontainers.image.ref.name":"latest"}}}}]}}"#
    );
    std::fs::write(dir.join("index.json"), index).unwrap();
    std::fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
}

/// A kernel image made once: a kernel binary and an empty modules tarball.
fn kernel() -> &'static PathBuf {
    static KERNEL: OnceLock<PathBuf> = OnceLock::new();
    KERNEL.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("sealkit-fuzz-kernel-{}", std::process::id()));
        let mut modules = tar::Builder::new(Vec::new());
        modules.finish().unwrap();
        let modules = modules.into_inner().unwrap();
        let mut layer = tar::Builder::new(Vec::new());
        for (name, body) in [("kernel", &b"bzImage"[..]), ("kernel.tar", &modules)] {
            let mut h = tar::Header::new_ustar();
            h.set_mode(0o644);
            h.set_size(body.len() as u64);
            layer.append_data(&mut h, name, body).unwrap();
        }
        layout(&dir, &layer.into_inner().unwrap());
        dir
    })
}

fuzz_target!(|data: &[u8]| {
    let tmp = tempfile::tempdir().unwrap();
    layout(&tmp.path().join("image"), data);
    let config = tmp.path().join("x.yml");
    std::fs::write(
        &config,
        format!(
            "kernel:\n  image: \"oci:{}:latest\"\n  cmdline: console=ttyS0\nonboot:\n  - name: x\n    image: \"oci:image:latest\"\n",
            kernel().display()
        ),
    )
    .unwrap();
    let Ok(loaded) = sealkit::config::load(std::slice::from_ref(&config)) else {
        return;
    };
    let store = Store::open(&tmp.path().join("store")).unwrap();
    let resolver = Resolver {
        store: store.clone(),
        platform: Platform::default(),
        options: Default::default(),
        lock: None,
        pull: false,
    };
    // The layout around the layer is valid, so only a refusal of the layer itself stops the plan:
    // an error, which is all this target asks of hostile bytes.
    let Ok(plan) = plan::plan(&loaded, &resolver, &Allowance::default()) else {
        return;
    };
    let out = tmp.path().join("out");
    let request = Request {
        output: &out,
        name: "x",
        formats: &[Format::KernelInitrd, Format::Tar],
        force: false,
        sbom: Some(Default::default()),
        epoch: sealkit::epoch::LINUXKIT_BUILD_TIME,
    };
    let _ = build::build(&loaded, &plan, &store, &request);
    // Whatever happened, nothing was written beside the output folder's own files.
    for entry in std::fs::read_dir(tmp.path()).unwrap() {
        let name = entry.unwrap().file_name();
        assert!(
            ["image", "x.yml", "store", "out"].contains(&name.to_str().unwrap()),
            "{name:?}"
        );
    }
});
