//! `sealkit trust update` against real TUF repositories, made here with tough's own editor and
//! keys generated for each test, served over HTTP on 127.0.0.1: the root installed is the one
//! `version` reports and `verify-bundle` verifies against; what does not verify (a target
//! changed after signing, expired or rolled-back metadata) is refused with the installed root
//! left in place; an unreachable repository and a corrupt cache are clear errors (exit 2).

use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::num::NonZeroU64;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use assert_cmd::Command;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair as _};
use sha2::Digest as _;
use tough::editor::RepositoryEditor;
use tough::editor::signed::{PathExists, SignedRole};
use tough::key_source::{KeySource, LocalKeySource};
use tough::schema::{KeyHolder, Root};

/// The conformance case whose bundle verifies only against its own trusted root: the root the
/// test repositories serve, so that verify-bundle's verdict shows which root it used.
fn custom_case() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/sigstore-conformance/bundle-verify/intoto-with-custom-trust-root")
}

const IDENTITY: &str = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
const ISSUER: &str = "https://token.actions.githubusercontent.com";
const FAR: &str = "2099-01-01T00:00:00Z";
const PAST: &str = "2020-01-01T00:00:00Z";

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// An Ed25519 signing key in a PKCS#8 file, as tough's `LocalKeySource` reads it.
struct Key {
    path: PathBuf,
    public: String,
}

impl Key {
    fn new(dir: &Path, name: &str) -> Key {
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).unwrap();
        let pair = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap();
        let path = dir.join(format!("{name}.pk8"));
        std::fs::write(&path, pkcs8.as_ref()).unwrap();
        Key {
            path,
            public: hex::encode(pair.public_key().as_ref()),
        }
    }

    fn json(&self) -> serde_json::Value {
        serde_json::json!({"keytype": "ed25519", "scheme": "ed25519", "keyval": {"public": self.public}})
    }

    fn id(&self) -> String {
        let key: tough::schema::key::Key = serde_json::from_value(self.json()).unwrap();
        hex::encode(key.key_id().unwrap())
    }

    fn source(&self) -> Box<dyn KeySource> {
        Box::new(LocalKeySource {
            path: self.path.clone(),
        })
    }
}

/// Root metadata `version` whose root role is `root_keys` and whose other roles are `role_key`,
/// signed by every key given: the bytes of N.root.json.
fn signed_root(version: u64, root_keys: &[&Key], role_key: &Key) -> Vec<u8> {
    let mut keys = serde_json::Map::new();
    for key in root_keys.iter().chain([&role_key]) {
        keys.insert(key.id(), key.json());
    }
    let role = |keys: Vec<String>| serde_json::json!({"keyids": keys, "threshold": 1});
    let root: Root = serde_json::from_value(serde_json::json!({
        "_type": "root",
        "spec_version": "1.0.0",
        "consistent_snapshot": true,
        "version": version,
        "expires": FAR,
        "keys": keys,
        "roles": {
            "root": role(root_keys.iter().map(|k| k.id()).collect()),
            "targets": role(vec![role_key.id()]),
            "snapshot": role(vec![role_key.id()]),
            "timestamp": role(vec![role_key.id()]),
        },
    }))
    .unwrap();
    let sources: Vec<Box<dyn KeySource>> = root_keys.iter().map(|k| k.source()).collect();
    let signed = runtime()
        .block_on(SignedRole::new(
            root.clone(),
            &KeyHolder::Root(root),
            &sources,
            &SystemRandom::new(),
        ))
        .unwrap();
    signed.buffer().clone()
}

/// The versions and the timestamp's expiry a repository's metadata is signed with.
struct Metadata {
    version: u64,
    timestamp_expires: &'static str,
}

/// Signs targets, snapshot and timestamp metadata over `target` (a file named
/// trusted_root.json) with `role_key` under the root at `root`, and lays the repository out in
/// `repo` as a TUF HTTP repository is: metadata at its top, targets (named by their sha256,
/// for consistent snapshots) in targets/.
fn publish(repo: &Path, root: &Path, role_key: &Key, target: &Path, metadata: &Metadata) {
    let time = |t: &str| serde_json::from_value(serde_json::json!(t)).unwrap();
    let version = NonZeroU64::new(metadata.version).unwrap();
    runtime().block_on(async {
        let mut editor = RepositoryEditor::new(root).await.unwrap();
        editor
            .targets_version(version)
            .unwrap()
            .targets_expires(time(FAR))
            .unwrap()
            .snapshot_version(version)
            .snapshot_expires(time(FAR))
            .timestamp_version(version)
            .timestamp_expires(time(metadata.timestamp_expires));
        let (name, entry) = RepositoryEditor::build_target(target).await.unwrap();
        editor.add_target(name, entry).unwrap();
        let signed = editor.sign(&[role_key.source()]).await.unwrap();
        std::fs::create_dir_all(repo.join("targets")).unwrap();
        signed.write(repo).await.unwrap();
        signed
            .copy_targets(target.parent().unwrap(), repo.join("targets"), PathExists::Replace)
            .await
            .unwrap();
    });
}

/// A static file server for `root` on 127.0.0.1, one connection at a time, stopped (and its
/// thread joined) when dropped.
struct Server {
    port: u16,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    fn start(root: &Path) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let root = root.to_path_buf();
        let stopping = stop.clone();
        let thread = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stopping.load(Ordering::SeqCst) {
                    break;
                }
                if let Ok(stream) = stream {
                    serve(stream, &root);
                }
            }
        });
        Server {
            port,
            stop,
            thread: Some(thread),
        }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wakes the accept loop so that it sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Answers one GET: the file under `root`, or 404.
fn serve(mut stream: TcpStream, root: &Path) {
    let _ = stream.set_read_timeout(Some(std::time::Duration::from_secs(10)));
    let mut request = Vec::new();
    let mut buf = [0u8; 1024];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") && request.len() < 16 << 10 {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => request.extend_from_slice(&buf[..n]),
        }
    }
    let line = String::from_utf8_lossy(&request);
    let path = line.split_whitespace().nth(1).unwrap_or("/").trim_start_matches('/');
    let file = (!path.split('/').any(|c| c == ".." || c.is_empty()))
        .then(|| root.join(path))
        .and_then(|p| std::fs::read(p).ok());
    let (status, body) = match file {
        Some(body) => ("200 OK", body),
        None => ("404 Not Found", Vec::new()),
    };
    let _ = write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(&body);
}

/// A repository signed with one key (root v1), serving `target` as trusted_root.json.
struct Repo {
    dir: tempfile::TempDir,
    key: Key,
    server: Server,
}

impl Repo {
    fn new(target: &Path, metadata: &Metadata) -> Repo {
        let dir = tempfile::tempdir().unwrap();
        let key = Key::new(dir.path(), "key");
        let served = dir.path().join("served");
        std::fs::create_dir_all(&served).unwrap();
        std::fs::write(dir.path().join("root.json"), signed_root(1, &[&key], &key)).unwrap();
        let source = dir.path().join("target");
        std::fs::create_dir_all(&source).unwrap();
        std::fs::copy(target, source.join("trusted_root.json")).unwrap();
        publish(
            &served,
            &dir.path().join("root.json"),
            &key,
            &source.join("trusted_root.json"),
            metadata,
        );
        let server = Server::start(&served);
        Repo { dir, key, server }
    }

    fn root(&self) -> PathBuf {
        self.dir.path().join("root.json")
    }

    fn served(&self) -> PathBuf {
        self.dir.path().join("served")
    }

    fn republish(&self, metadata: &Metadata) {
        let source = self.dir.path().join("target/trusted_root.json");
        publish(&self.served(), &self.root(), &self.key, &source, metadata);
    }
}

fn sealkit(cache: &Path) -> Command {
    let mut c = Command::cargo_bin("sealkit").unwrap();
    c.env("SEALKIT_SIGSTORE", cache);
    c
}

fn update(cache: &Path, repo: &Repo) -> std::process::Output {
    sealkit(cache)
        .args(["trust", "update", "--tuf-url", &repo.server.url(), "--tuf-root"])
        .arg(repo.root())
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn verify_custom_case(cache: &Path) -> std::process::Output {
    let case = custom_case();
    sealkit(cache)
        .arg("verify-bundle")
        .arg("--bundle")
        .arg(case.join("bundle.sigstore.json"))
        .args(["--certificate-identity", IDENTITY, "--certificate-oidc-issuer", ISSUER])
        .arg(case.join("artifact"))
        .output()
        .unwrap()
}

fn sha256_hex(path: &Path) -> String {
    hex::encode(sha2::Sha256::digest(std::fs::read(path).unwrap()))
}

const CURRENT: Metadata = Metadata {
    version: 2,
    timestamp_expires: FAR,
};

#[test]
fn an_update_installs_the_root_that_version_and_verify_bundle_use_and_a_tampered_one_is_refused() {
    let target = custom_case().join("trusted_root.json");
    let digest = sha256_hex(&target);
    let repo = Repo::new(&target, &CURRENT);
    let cache = tempfile::tempdir().unwrap();
    let cache = cache.path().join("sigstore");

    // Before: the embedded root, which this bundle's signer is not under.
    let out = sealkit(&cache).arg("version").output().unwrap();
    assert!(
        text(&out.stdout).contains("public-good production root"),
        "{}",
        text(&out.stdout)
    );
    let out = verify_custom_case(&cache);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));

    let out = update(&cache, &repo);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let said = text(&out.stdout);
    eprintln!("{said}");
    assert!(said.starts_with("installed the Sigstore trusted root"), "{said}");
    assert!(said.contains(&format!("sha256:{digest}")), "{said}");
    assert!(
        said.contains("root v1, timestamp v2, snapshot v2, targets v2"),
        "{said}"
    );

    // Again: nothing new, said so, in JSON.
    let out = sealkit(&cache)
        .args([
            "trust",
            "update",
            "--format",
            "json",
            "--tuf-url",
            &repo.server.url(),
            "--tuf-root",
        ])
        .arg(repo.root())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["changed"], false);
    assert_eq!(json["installed"]["sha256"], digest.as_str());
    assert_eq!(json["installed"]["versions"]["targets"], 2);
    assert_eq!(json["installed"]["repository"], repo.server.url());

    let out = sealkit(&cache).arg("version").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let said = text(&out.stdout);
    eprintln!("{said}");
    assert!(
        said.contains(&format!("(sha256:{digest}), updated from {}", repo.server.url())),
        "{said}"
    );

    let out = verify_custom_case(&cache);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("updated from"), "{}", text(&out.stdout));
    // --trusted-root still comes first.
    let out = sealkit(&cache)
        .args(["version", "--trusted-root"])
        .arg(&target)
        .output()
        .unwrap();
    assert!(text(&out.stdout).contains("from the file"), "{}", text(&out.stdout));

    // A target changed after signing, same length: refused, and the installed root stays.
    let record = std::fs::read(cache.join("installed.json")).unwrap();
    let served = repo.served().join(format!("targets/{digest}.trusted_root.json"));
    let mut bytes = std::fs::read(&served).unwrap();
    let at = bytes.iter().position(|&b| b == b'A').unwrap();
    bytes[at] = b'B';
    std::fs::write(&served, &bytes).unwrap();
    let out = update(&cache, &repo);
    let stderr = text(&out.stderr);
    eprintln!("{stderr}");
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("error[tuf-not-verified]"), "{stderr}");
    assert!(stderr.contains("hint:"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(std::fs::read(cache.join("installed.json")).unwrap(), record);
    let out = verify_custom_case(&cache);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));

    // A cached root changed on disk: every user of it says so and how to fix it, exit 2.
    let installed = cache.join(format!("roots/sha256-{digest}.json"));
    std::fs::write(&installed, b"{\"mediaType\": \"no\"}").unwrap();
    let out = sealkit(&cache).arg("version").output().unwrap();
    let stderr = text(&out.stderr);
    eprintln!("{stderr}");
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("error[trusted-root-cache]"), "{stderr}");
    assert!(stderr.contains(&installed.display().to_string()), "{stderr}");
    assert!(stderr.contains("sealkit trust update"), "{stderr}");
    let out = verify_custom_case(&cache);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("error[trusted-root-cache]"));
}

#[test]
fn expired_timestamp_metadata_is_refused_and_nothing_is_installed() {
    let target = custom_case().join("trusted_root.json");
    let repo = Repo::new(
        &target,
        &Metadata {
            version: 1,
            timestamp_expires: PAST,
        },
    );
    let cache = tempfile::tempdir().unwrap();
    let out = update(cache.path(), &repo);
    let stderr = text(&out.stderr);
    eprintln!("{stderr}");
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("error[tuf-not-verified]"), "{stderr}");
    assert!(stderr.contains("expired"), "{stderr}");
    assert!(!cache.path().join("installed.json").exists());
    let out = sealkit(cache.path()).arg("version").output().unwrap();
    assert!(text(&out.stdout).contains("embedded"), "{}", text(&out.stdout));
}

#[test]
fn metadata_rolled_back_after_an_update_is_refused() {
    let target = custom_case().join("trusted_root.json");
    let repo = Repo::new(&target, &CURRENT);
    let cache = tempfile::tempdir().unwrap();
    let out = update(cache.path(), &repo);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    // The repository now serves older (still validly signed) metadata: a replay.
    for name in ["timestamp.json", "2.snapshot.json", "2.targets.json"] {
        std::fs::remove_file(repo.served().join(name)).unwrap();
    }
    repo.republish(&Metadata {
        version: 1,
        timestamp_expires: FAR,
    });
    let out = update(cache.path(), &repo);
    let stderr = text(&out.stderr);
    eprintln!("{stderr}");
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("error[tuf-not-verified]"), "{stderr}");
    assert!(stderr.contains("version"), "{stderr}");
}

#[test]
fn rotated_root_keys_are_followed_from_the_anchor() {
    let dir = tempfile::tempdir().unwrap();
    let (old, new) = (Key::new(dir.path(), "old"), Key::new(dir.path(), "new"));
    let served = dir.path().join("served");
    std::fs::create_dir_all(&served).unwrap();
    let v1 = signed_root(1, &[&old], &old);
    std::fs::write(dir.path().join("anchor.json"), &v1).unwrap();
    std::fs::write(served.join("1.root.json"), &v1).unwrap();
    // Version 2 is signed by the old root key (the chain) and the new one (its own threshold),
    // and moves every other role to the new key.
    std::fs::write(dir.path().join("2.root.json"), signed_root(2, &[&old, &new], &new)).unwrap();
    let source = dir.path().join("target");
    std::fs::create_dir_all(&source).unwrap();
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("src/sigstore/production_trusted_root.json"),
        source.join("trusted_root.json"),
    )
    .unwrap();
    publish(
        &served,
        &dir.path().join("2.root.json"),
        &new,
        &source.join("trusted_root.json"),
        &CURRENT,
    );
    let server = Server::start(&served);
    let cache = tempfile::tempdir().unwrap();
    let out = sealkit(cache.path())
        .args([
            "trust",
            "update",
            "--format",
            "json",
            "--tuf-url",
            &server.url(),
            "--tuf-root",
        ])
        .arg(dir.path().join("anchor.json"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["installed"]["versions"]["root"], 2);
    assert_eq!(
        json["installed"]["date"],
        sealkit::sigstore::trusted_root::PRODUCTION_DATE
    );
    // The next run starts from the root it ended on, kept with the repository's metadata.
    let kept = std::fs::read_dir(cache.path().join("tuf"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let kept: serde_json::Value = serde_json::from_slice(&std::fs::read(kept.join("root.json")).unwrap()).unwrap();
    assert_eq!(kept["signed"]["version"], 2);
    // With 2.root.json gone from the repository, only a run that starts from the kept root
    // can verify metadata signed by the new key.
    std::fs::remove_file(served.join("2.root.json")).unwrap();
    let out = sealkit(cache.path())
        .args(["trust", "update", "--tuf-url", &server.url(), "--tuf-root"])
        .arg(dir.path().join("anchor.json"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).starts_with("unchanged:"), "{}", text(&out.stdout));
}

#[test]
fn an_unreachable_repository_is_a_clear_error_exit_2() {
    // A port just freed: nothing listens there.
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let dir = tempfile::tempdir().unwrap();
    let key = Key::new(dir.path(), "key");
    std::fs::write(dir.path().join("root.json"), signed_root(1, &[&key], &key)).unwrap();
    let url = format!("http://127.0.0.1:{port}");
    let out = sealkit(&dir.path().join("cache"))
        .args(["trust", "update", "--tuf-url", &url, "--tuf-root"])
        .arg(dir.path().join("root.json"))
        .output()
        .unwrap();
    let stderr = text(&out.stderr);
    eprintln!("{stderr}");
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("error[tuf-unreachable]"), "{stderr}");
    assert!(stderr.contains(&url), "{stderr}");
    assert!(stderr.contains("hint:"), "{stderr}");

    // Another repository than the public-good one needs its root.
    let out = sealkit(&dir.path().join("cache"))
        .args(["trust", "update", "--tuf-url", &url])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("error[bad-tuf-input]"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn a_signed_target_that_is_no_trusted_root_is_not_installed() {
    let not_a_root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/sigstore-conformance/bundle-verify/a.txt");
    let repo = Repo::new(&not_a_root, &CURRENT);
    let cache = tempfile::tempdir().unwrap();
    let out = update(cache.path(), &repo);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("error[bad-trusted-root]"), "{stderr}");
    assert!(stderr.contains("nothing was installed"), "{stderr}");
    assert!(!cache.path().join("installed.json").exists());
}

#[test]
fn a_local_mirror_is_read_through_a_file_url() {
    let target = custom_case().join("trusted_root.json");
    let repo = Repo::new(&target, &CURRENT);
    let cache = tempfile::tempdir().unwrap();
    let url = format!("file://{}", repo.served().display());
    let out = sealkit(cache.path())
        .args(["trust", "update", "--format", "json", "--tuf-url", &url, "--tuf-root"])
        .arg(repo.root())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["installed"]["sha256"], sha256_hex(&target).as_str());
    assert_eq!(json["changed"], true);
}
