//! The corpus: planted secrets (templates in testdata/positives, filled at test time with
//! freshly generated keys and fake but well-formed tokens: no secret is committed) and
//! look-alikes (testdata/negatives). Every placeholder `{{rule[:variant]}}` is one expected
//! finding of that rule on the line where it begins.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use super::*;
use crate::image::rootfs::{Entry, Kind};

const TESTDATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/src/inspect/secrets/testdata");

/// Files named as credential files in the corpus (dockle's names and ours).
const NAMED: &[&str] = &[
    "etc/ssh/ssh_host_ed25519_key",
    "home/user/.git-credentials",
    "home/user/.netrc",
    "home/user/.ssh/id_ed25519",
    "opt/vpn/client.ovpn",
    "root/.aws/credentials",
    "srv/app/.env",
    "srv/app/config/database.yml",
    "srv/app/credentials.json",
    "srv/app/settings.py",
    "var/backups/password.txt",
];

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Expected {
    rule: String,
    path: String,
    line: Option<u64>,
}

struct Corpus {
    files: Vec<(String, Vec<u8>)>,
    expected: Vec<Expected>,
    /// Every planted secret, to check that no excerpt shows one.
    secrets: Vec<String>,
}

/// Deterministic, so a failure can be reproduced; fresh per placeholder.
struct Fake(u64);

impl Fake {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn pick(&mut self, alphabet: &str, n: usize) -> String {
        let a = alphabet.as_bytes();
        (0..n)
            .map(|_| char::from(a[(self.next() % a.len() as u64) as usize]))
            .collect()
    }
}

const ALNUM: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const UPPER_DIGITS: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const BASE64: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn base64(bytes: &[u8]) -> String {
    let a = BASE64.as_bytes();
    let mut out = String::new();
    for group in bytes.chunks(3) {
        let n = group
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..=group.len() {
            out.push(char::from(a[(n >> (18 - 6 * i) & 63) as usize]));
        }
        for _ in group.len()..3 {
            out.push('=');
        }
    }
    out
}

fn run(program: &str, args: &[&str]) -> String {
    let out = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program} is needed to generate test keys: {e}"));
    assert!(
        out.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("PEM is ASCII")
}

/// Private keys made for this test run, by kind.
fn key(kind: &str) -> String {
    static KEYS: OnceLock<BTreeMap<&'static str, String>> = OnceLock::new();
    let keys = KEYS.get_or_init(|| {
        let dir = tempfile::tempdir().expect("a scratch folder");
        let ssh = dir.path().join("id");
        run(
            "ssh-keygen",
            &[
                "-q",
                "-t",
                "ed25519",
                "-N",
                "",
                "-C",
                "sealkit-test",
                "-f",
                &ssh.to_string_lossy(),
            ],
        );
        let openssh = std::fs::read_to_string(&ssh).expect("ssh-keygen wrote the key");
        let pkcs8 = run(
            "openssl",
            &["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
        );
        BTreeMap::from([
            ("openssh", openssh),
            ("rsa", run("openssl", &["genrsa", "-traditional", "1024"])),
            (
                "ec",
                run("openssl", &["ecparam", "-name", "prime256v1", "-genkey", "-noout"]),
            ),
            ("json", pkcs8.replace('\n', "\\n")),
            ("pkcs8", pkcs8),
            (
                "encrypted-pkcs8",
                run(
                    "openssl",
                    &[
                        "genpkey",
                        "-algorithm",
                        "ed25519",
                        "-aes256",
                        "-pass",
                        "pass:sealkit-test",
                    ],
                ),
            ),
            (
                "encrypted-rsa",
                run(
                    "openssl",
                    &[
                        "genrsa",
                        "-traditional",
                        "-aes128",
                        "-passout",
                        "pass:sealkit-test",
                        "1024",
                    ],
                ),
            ),
        ])
    });
    keys.get(kind)
        .unwrap_or_else(|| panic!("no key of kind {kind}"))
        .clone()
}

/// A value for placeholder `rule[:variant]`.
fn fake(placeholder: &str, rng: &mut Fake) -> String {
    let (rule, variant) = placeholder.split_once(':').unwrap_or((placeholder, ""));
    match rule {
        "aws-access-key-id" => format!("AKIA{}", rng.pick(UPPER_DIGITS, 16)),
        "aws-secret-access-key" => rng.pick(BASE64, 40),
        "github-pat" => format!("ghp_{}", rng.pick(ALNUM, 36)),
        "github-oauth" => format!("gho_{}", rng.pick(ALNUM, 36)),
        "github-app-token" => format!("{variant}_{}", rng.pick(ALNUM, 36)),
        "github-refresh-token" => format!("ghr_{}", rng.pick(ALNUM, 76)),
        "github-fine-grained-pat" => format!("github_pat_{}_{}", rng.pick(ALNUM, 22), rng.pick(ALNUM, 59)),
        "gitlab-pat" => format!("glpat-{}", rng.pick(ALNUM, 20)),
        "hugging-face-access-token" => format!("hf_{}", rng.pick(ALNUM, 34)),
        "slack-access-token" => format!("xoxb-{}", rng.pick(ALNUM, 40)),
        "slack-web-hook" => format!(
            "https://hooks.slack.com/services/T{}/B{}/{}",
            rng.pick(UPPER_DIGITS, 10),
            rng.pick(UPPER_DIGITS, 10),
            rng.pick(ALNUM, 24)
        ),
        "stripe-secret-token" => format!("sk_live_{}", rng.pick("abcdefghijklmnopqrstuvwxyz0123456789", 24)),
        "npm-access-token" => format!("npm_{}", rng.pick(ALNUM, 36)),
        "pypi-upload-token" => format!("pypi-AgEIcHlwaS5vcmc{}", rng.pick(ALNUM, 70)),
        "gcp-service-account" => r#""type": "service_account""#.to_owned(),
        "jwt-token" => {
            let payload = format!(r#"{{"sub":"{}","name":"sealkit test"}}"#, rng.pick(ALNUM, 12));
            format!(
                "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.{}.{}",
                base64(payload.as_bytes()).trim_end_matches('='),
                rng.pick(ALNUM, 43)
            )
        }
        "age-secret-key" => format!("AGE-SECRET-KEY-1{}", rng.pick("QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L", 58)),
        "dockerconfig-secret" => {
            let auth = base64(format!("robot:{}", rng.pick(ALNUM, 24)).as_bytes());
            base64(format!(r#"{{"auths":{{"registry.internal.invalid":{{"auth":"{auth}"}}}}}}"#).as_bytes())
        }
        "generic-secret-assignment" => format!("{}7{}", rng.pick(ALNUM, 12), rng.pick("!#%&*+-=?@^_~", 2)),
        "credential-file" => rng.pick(BASE64, 48),
        "private-key" => key(variant),
        other => panic!("no fake for placeholder {other}"),
    }
}

/// Fills a template: the bytes, and one expected finding per placeholder.
fn render(path: &str, template: &str, rng: &mut Fake, corpus: &mut Corpus) -> Vec<u8> {
    let mut out = String::new();
    let mut rest = template;
    while let Some(open) = rest.find("{{") {
        out.push_str(&rest[..open]);
        let close = rest[open..].find("}}").expect("a closed placeholder") + open;
        let placeholder = &rest[open + 2..close];
        let value = fake(placeholder, rng);
        corpus.expected.push(Expected {
            rule: placeholder.split(':').next().unwrap_or_default().to_owned(),
            path: path.to_owned(),
            line: Some(out.matches('\n').count() as u64 + 1),
        });
        corpus.secrets.push(value.clone());
        out.push_str(&value);
        rest = &rest[close + 2..];
    }
    out.push_str(rest);
    out.into_bytes()
}

fn files_under(root: &Path) -> Vec<(String, PathBuf)> {
    let mut out = Vec::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).expect("testdata is readable") {
            let path = entry.expect("testdata is readable").path();
            if path.is_dir() {
                pending.push(path);
            } else {
                let relative = path
                    .strip_prefix(root)
                    .expect("under root")
                    .to_string_lossy()
                    .into_owned();
                out.push((relative, path));
            }
        }
    }
    out.sort();
    out
}

fn corpus() -> Corpus {
    let mut corpus = Corpus {
        files: Vec::new(),
        expected: Vec::new(),
        secrets: Vec::new(),
    };
    let mut rng = Fake(0x5ea1_c0de_2026);
    for (path, on_disk) in files_under(&Path::new(TESTDATA).join("positives")) {
        let template = std::fs::read_to_string(on_disk).expect("templates are UTF-8");
        let bytes = render(&path, &template, &mut rng, &mut corpus);
        corpus.files.push((path, bytes));
    }
    for (name, on_disk) in files_under(&Path::new(TESTDATA).join("negatives")) {
        let bytes = std::fs::read(on_disk).expect("testdata is readable");
        let path = if name.ends_with(".pub") {
            "etc/ssh/ssh_host_ed25519_key.pub".to_owned()
        } else {
            format!("usr/share/doc/lookalikes/{name}")
        };
        corpus.files.push((path, bytes));
    }

    // A token and a key across the 64 KiB chunk boundaries a streaming reader meets.
    let filler = "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod.\n";
    let mut template = filler.repeat(65536 / filler.len());
    template.push_str(&"x".repeat(65536 - template.len() - 20));
    template.push_str(" {{github-pat}} tail\n");
    template.push_str(&filler.repeat(65536 / filler.len()));
    template.push_str("{{private-key:pkcs8}}");
    template.push_str(&filler.repeat(10));
    let bytes = render("var/log/boundary.log", &template, &mut rng, &mut corpus);
    assert!(
        bytes.len() > 2 * 65536,
        "the planted key crosses the second chunk boundary"
    );
    corpus.files.push(("var/log/boundary.log".into(), bytes));

    // CRLF line ends, and a secret on a last line that has no line end (`$` at the file's end).
    let crlf = std::fs::read_to_string(Path::new(TESTDATA).join("positives/opt/ci/env.sh"))
        .expect("the template is there")
        .replace('\n', "\r\n");
    let bytes = render("opt/ci/env.cmd", &crlf, &mut rng, &mut corpus);
    corpus.files.push(("opt/ci/env.cmd".into(), bytes));
    let bytes = render(
        "etc/app/last-line.conf",
        "[aws]\r\nkey_id = {{aws-access-key-id}}",
        &mut rng,
        &mut corpus,
    );
    corpus.files.push(("etc/app/last-line.conf".into(), bytes));

    // Not UTF-8 (Latin-1), and a NUL byte past the first 8 KiB: still text, still scanned.
    let mut latin1 = b"Clef d'acc\xe8s \xe0 ne pas publier\n".to_vec();
    latin1.extend(render(
        "usr/share/doc/latin1.txt",
        "token_secret = {{gitlab-pat}}\n",
        &mut rng,
        &mut corpus,
    ));
    corpus.expected.last_mut().expect("just rendered").line = Some(2);
    corpus.files.push(("usr/share/doc/latin1.txt".into(), latin1));
    let mut nul = filler.repeat(9000 / filler.len() + 1).into_bytes();
    nul.push(0);
    let lines = nul.iter().filter(|&&b| b == b'\n').count() as u64;
    nul.extend(render(
        "var/lib/nul.txt",
        "\n{{slack-access-token}}\n",
        &mut rng,
        &mut corpus,
    ));
    corpus.expected.last_mut().expect("just rendered").line = Some(lines + 2);
    corpus.files.push(("var/lib/nul.txt".into(), nul));

    // A binary file: a key inside is found (no line), a token is not (binaries are scanned for
    // private keys only).
    let mut elf = b"\x7fELF\x02\x01\x01\0".to_vec();
    elf.extend([0u8; 4096]);
    elf.extend(b"\xfe\xff\x01");
    elf.extend(render(
        "usr/lib/libembedded.so",
        "{{private-key:pkcs8}}",
        &mut rng,
        &mut corpus,
    ));
    corpus.expected.last_mut().expect("just rendered").line = None;
    elf.extend(b"\xfe\xff\x01");
    elf.extend([0u8; 64]);
    elf.extend(fake("github-pat", &mut rng).into_bytes());
    elf.extend([0u8; 64]);
    corpus.files.push(("usr/lib/libembedded.so".into(), elf));

    corpus.expected.extend(NAMED.iter().map(|path| Expected {
        rule: "credential-file".into(),
        path: (*path).to_owned(),
        line: None,
    }));
    corpus.expected.sort();
    corpus
}

fn scan_with_chunks(corpus: &Corpus, chunk: usize) -> Secrets {
    let mut scanner = SecretScanner::new();
    for (ordinal, (path, bytes)) in corpus.files.iter().enumerate() {
        let at = ContentRef {
            layer: 0,
            ordinal: ordinal as u64,
        };
        if scanner.begin(Path::new(path), bytes.len() as u64, at) {
            for piece in bytes.chunks(chunk) {
                scanner.chunk(piece);
            }
            scanner.end();
        }
    }
    scanner.finish()
}

fn scan_folder(corpus: &Corpus) -> Secrets {
    let dir = tempfile::tempdir().expect("a scratch folder");
    for (path, bytes) in &corpus.files {
        let file = dir.path().join(path);
        std::fs::create_dir_all(file.parent().expect("files are in folders")).expect("a scratch folder");
        std::fs::write(file, bytes).expect("a scratch folder");
    }
    let mut scanner = SecretScanner::new();
    scanner.scan_tree(dir.path()).expect("the folder is readable");
    scanner.finish()
}

#[test]
fn corpus_recall_and_false_positives() {
    let corpus = corpus();
    let secrets = scan_folder(&corpus);
    let mut missing = corpus.expected.clone();
    let mut false_positives = Vec::new();
    for f in &secrets.findings {
        let got = Expected {
            rule: f.rule.to_owned(),
            path: f.path.clone(),
            line: f.line,
        };
        match missing.iter().position(|e| *e == got) {
            Some(at) => {
                missing.remove(at);
            }
            None => false_positives.push(f),
        }
    }
    let found = corpus.expected.len() - missing.len();
    println!(
        "secrets corpus: {} files, {} planted, found {found}, missed {}, false positives {}",
        corpus.files.len(),
        corpus.expected.len(),
        missing.len(),
        false_positives.len()
    );
    assert!(
        missing.is_empty() && false_positives.is_empty(),
        "missed {missing:#?}\nfalse positives {false_positives:#?}"
    );
    assert_eq!((found, missing.len(), false_positives.len()), (63, 0, 0));
    let planted: std::collections::BTreeSet<&str> = corpus.expected.iter().map(|e| e.rule.as_str()).collect();
    let every: std::collections::BTreeSet<&str> = RULES.iter().map(|r| r.id).collect();
    assert_eq!(planted, every, "every rule is planted at least once");
    assert_eq!(secrets.binary_files, 1);
}

#[test]
fn chunk_boundaries_change_nothing() {
    let corpus = corpus();
    let reference = scan_folder(&corpus);
    for chunk in [1, 7, 4093, 65536, 1 << 20] {
        assert_eq!(scan_with_chunks(&corpus, chunk), reference, "chunks of {chunk} bytes");
    }
}

#[test]
fn excerpts_never_show_a_secret() {
    let corpus = corpus();
    let secrets = scan_folder(&corpus);
    let body_lines: Vec<&str> = corpus
        .secrets
        .iter()
        .flat_map(|s| s.split(['\n', '\\']))
        .filter(|line| line.len() >= 16 && !line.contains("-----"))
        .collect();
    for f in &secrets.findings {
        for secret in corpus.secrets.iter().filter(|s| s.len() >= 8) {
            assert!(!f.excerpt.contains(secret.as_str()), "{f:?} shows {secret}");
        }
        for line in &body_lines {
            assert!(!f.excerpt.contains(line), "{f:?} shows a key's line {line}");
        }
    }
    let key = secrets
        .findings
        .iter()
        .find(|f| f.path == "etc/ssl/private/server.key")
        .expect("the RSA key is found");
    assert_eq!(
        key.excerpt,
        "-----BEGIN RSA PRIVATE KEY----- ***** -----END RSA PRIVATE KEY-----"
    );
    let aws = secrets
        .findings
        .iter()
        .find(|f| f.rule == "aws-access-key-id" && f.path == "root/.aws/credentials")
        .expect("the AWS key id is found");
    assert_eq!(aws.excerpt, "aws_access_key_id = *****");
    let binary = secrets
        .findings
        .iter()
        .find(|f| f.path == "usr/lib/libembedded.so")
        .expect("the key in a binary is found");
    assert_eq!(
        binary.excerpt,
        "-----BEGIN PRIVATE KEY----- ***** -----END PRIVATE KEY-----"
    );
}

#[test]
fn two_secrets_on_one_line_mask_each_other() {
    let a = format!("ghp_{}", "a1".repeat(18));
    let b = format!("gho_{}", "b2".repeat(18));
    let mut scanner = SecretScanner::new();
    let text = format!("pair {a} {b}\n");
    let at = ContentRef { layer: 0, ordinal: 0 };
    assert!(scanner.begin(Path::new("pair.txt"), text.len() as u64, at));
    scanner.chunk(text.as_bytes());
    scanner.end();
    let excerpts: Vec<(&str, String)> = scanner
        .finish()
        .findings
        .into_iter()
        .map(|f| (f.rule, f.excerpt))
        .collect();
    assert_eq!(
        excerpts,
        [
            ("github-oauth", "***** *****".into()),
            ("github-pat", "pair ***** *****".into())
        ]
    );
}

/// Streams `total` bytes of `unit` (then `tail`) as one file in 64 KiB chunks.
fn stream(unit: &[u8], total: usize, tail: &[u8]) -> (Secrets, usize) {
    let mut scanner = SecretScanner::new();
    let at = ContentRef { layer: 0, ordinal: 0 };
    assert!(scanner.begin(Path::new("huge"), (total + tail.len()) as u64, at));
    let chunk = unit.repeat((64 << 10) / unit.len());
    let mut sent = 0;
    while sent < total {
        let n = chunk.len().min(total - sent);
        scanner.chunk(&chunk[..n]);
        sent += n;
    }
    scanner.chunk(tail);
    scanner.end();
    let largest = scanner.largest_buffer();
    (scanner.finish(), largest)
}

/// Bounded whatever the file: the longest window, merged windows and one chunk.
const BUFFER_BOUND: usize = 256 << 10;

#[test]
fn a_100_mb_line_is_scanned_in_bounded_memory() {
    let token = format!(" ghp_{}", "Z9".repeat(18));
    let (secrets, largest) = stream(b"x", 100 << 20, token.as_bytes());
    let lines: Vec<_> = secrets.findings.iter().map(|f| (f.rule, f.line)).collect();
    assert_eq!(lines, [("github-pat", Some(1))]);
    assert!(largest <= BUFFER_BOUND, "held {largest} bytes");
}

#[test]
fn a_storm_of_keywords_stays_bounded() {
    let (secrets, largest) = stream(b"token=private key-----BEGIN ", 4 << 20, b"");
    assert_eq!(secrets.findings, []);
    assert!(largest <= BUFFER_BOUND, "held {largest} bytes");
}

#[test]
fn binary_garbage_is_read_without_findings() {
    let mut rng = Fake(7);
    let garbage: Vec<u8> = (0..1 << 20).map(|_| rng.next() as u8).collect();
    let no_nul: Vec<u8> = garbage.iter().map(|&b| b.max(1)).collect();
    let mut scanner = SecretScanner::new();
    for (ordinal, bytes) in [&garbage, &no_nul].into_iter().enumerate() {
        let at = ContentRef {
            layer: 0,
            ordinal: ordinal as u64,
        };
        assert!(scanner.begin(Path::new("garbage"), bytes.len() as u64, at));
        bytes.chunks(65536).for_each(|c| scanner.chunk(c));
        scanner.end();
    }
    let secrets = scanner.finish();
    assert_eq!((secrets.files, secrets.binary_files, secrets.findings.len()), (2, 1, 0));
}

#[test]
fn findings_past_the_limit_are_counted() {
    let text: String = (0..150).map(|i| format!("ghp_{:0>36}\n", i)).collect();
    let mut scanner = SecretScanner::new();
    let at = ContentRef { layer: 0, ordinal: 0 };
    assert!(scanner.begin(Path::new("many"), text.len() as u64, at));
    scanner.chunk(text.as_bytes());
    scanner.end();
    let secrets = scanner.finish();
    assert_eq!(secrets.findings.len(), stream::MAX_FINDINGS);
    assert_eq!(
        secrets.notes,
        [SecretNote {
            path: "many".into(),
            reason: format!(
                "50 more findings past the first {} are not listed",
                stream::MAX_FINDINGS
            ),
        }]
    );
}

#[test]
fn the_flattened_view_names_hard_links_and_hides_replaced_files() {
    let token = format!("ghp_{}", "q7".repeat(18));
    let mut scanner = SecretScanner::new();
    let files = [
        ("etc/app.conf", ContentRef { layer: 0, ordinal: 0 }, true),
        ("etc/shared.conf", ContentRef { layer: 0, ordinal: 1 }, true),
        ("etc/app.conf", ContentRef { layer: 1, ordinal: 0 }, false),
    ];
    for (path, at, secret) in files {
        let text = if secret {
            format!("k = {token}\n")
        } else {
            "clean\n".into()
        };
        assert!(scanner.begin(Path::new(path), text.len() as u64, at));
        scanner.chunk(text.as_bytes());
        scanner.end();
    }
    let entry = |content: ContentRef| Entry {
        kind: Kind::File,
        mode: 0o644,
        uid: 0,
        gid: 0,
        size: 1,
        mtime: 0,
        sha256: None,
        xattrs: Default::default(),
        content: Some(content),
        layer: content.layer,
        hardlink_of: None,
    };
    let mut rootfs = Rootfs::default();
    for (path, at) in [
        ("etc/app.conf", files[2].1),
        ("etc/shared.conf", files[1].1),
        ("root/.ssh/id_rsa", files[1].1),
    ] {
        rootfs.entries.insert(PathBuf::from(path), entry(at));
    }
    let seen: Vec<(String, &str, bool)> = scanner
        .finish_in(&rootfs)
        .findings
        .into_iter()
        .map(|f| (f.path, f.rule, f.hidden))
        .collect();
    assert_eq!(
        seen,
        [
            ("etc/app.conf".into(), "github-pat", true),
            ("etc/shared.conf".into(), "github-pat", false),
            ("root/.ssh/id_rsa".into(), "credential-file", false),
            ("root/.ssh/id_rsa".into(), "github-pat", false),
        ]
    );
}

#[test]
fn credential_file_names() {
    for (path, named) in [
        ("root/.ssh/id_rsa", true),
        ("root/.ssh/id_rsa.pub", false),
        ("home/u/.netrc", true),
        ("app/.env", true),
        ("app/.envrc", false),
        ("app/env", false),
        ("etc/ssh/ssh_host_rsa_key", true),
        ("etc/ssh/ssh_host_rsa_key.pub", false),
        ("opt/ssh_host_rsa_key", false),
        ("srv/keystore.jks", true),
        (".jks", false),
        ("srv/app/credentials.xml", true),
        ("usr/lib/python3/dist-packages/botocore/credentials.py", false),
    ] {
        assert_eq!(credential_file(path).is_some(), named, "{path}");
    }
}

#[test]
fn rules_are_listed_once_and_every_pattern_compiles() {
    let ids: std::collections::BTreeSet<&str> = RULES.iter().map(|r| r.id).collect();
    assert_eq!(ids.len(), RULES.len());
    for p in rules::PATTERNS {
        assert!(
            RULES.iter().any(|r| std::ptr::eq(*r, p.rule)),
            "{} is listed",
            p.rule.id
        );
    }
    assert_eq!(rules::COMPILED.regexes.len(), rules::PATTERNS.len());
}

#[test]
fn entropy_is_bits_per_byte() {
    assert_eq!(rules::shannon_entropy(b"aaaa"), 0.0);
    assert_eq!(rules::shannon_entropy(b"abcd"), 2.0);
}
