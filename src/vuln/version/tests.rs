//! The version orders against their reference implementations where this machine has them:
//! dpkg itself, and Python's `packaging` (the PyPA's PEP 440 implementation). Without CI a
//! missing reference skips its test; with CI set it fails, as every peer check here does.

use std::cmp::Ordering;
use std::io::Write;
use std::process::{Command, Stdio};

use super::*;

fn reference_missing(what: &str) {
    assert!(
        std::env::var_os("CI").is_none(),
        "CI needs {what} (scripts/test installs it)"
    );
    eprintln!("skipped: {what} is not installed");
}

/// A small deterministic generator, so a failure names the same pairs every run.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) % n as u64) as usize
    }
}

/// Runs `script` under `program` with `input` on stdin; its stdout.
fn run(program: &str, args: &[&str], input: &str) -> String {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{program} failed");
    String::from_utf8(out.stdout).unwrap()
}

fn sign(o: Ordering) -> &'static str {
    match o {
        Ordering::Less => "<",
        Ordering::Equal => "=",
        Ordering::Greater => ">",
    }
}

/// Every version this machine's dpkg database names (packages and their sources), and the cases
/// deb-version(7) is about.
fn dpkg_versions() -> Vec<String> {
    let mut versions: Vec<String> = [
        "1.0~rc1",
        "1.0~rc1-1",
        "1.0",
        "1.0-0",
        "1.0-1",
        "1.0-1+b1",
        "1.0-1~bpo12+1",
        "1:0",
        "0:1.0",
        "1:1.0",
        "2:0.1",
        "1.0~~",
        "1.0~~a",
        "1.0~",
        "1.0a",
        "1.0+",
        "1.0.",
        "1.0+dfsg-1",
        "1.0+dfsg1-1",
        "1.00",
        "1.000-0",
        "01.0",
        "1.0-a-b",
        "1.0-a-c",
        "1.0-1.1",
        "1.0-1.1~deb12u1",
        "2.36-9+deb12u9",
        "2.36-9+deb12u10",
        "9.2p1-2+deb12u3",
        "1:9.2p1-2+deb12u2",
        "5.4.1-0.2",
        "5.6.0-0.1",
        "5.6.1-1",
        "0",
        "0-0",
        "0~",
        "a",
        "a1",
        "1.0_x",
        "1:1.0:1",
        "10",
        "9",
        "1.0.0",
        "1.0.0.0",
        "2.30-0ubuntu2",
        "4.19.0-1~",
        "4.19.0~",
        "1.0z",
        "1.0Z",
        "1.0.Z",
        "1.0é",
        "1.0ä-1",
    ]
    .map(str::to_owned)
    .into();
    let status = std::fs::read_to_string("/var/lib/dpkg/status").unwrap_or_default();
    for line in status.lines() {
        if let Some(v) = line.strip_prefix("Version: ") {
            versions.push(v.trim().to_owned());
        } else if let Some(source) = line.strip_prefix("Source: ")
            && let Some((_, v)) = source.split_once(" (")
        {
            versions.push(v.trim_end_matches(')').to_owned());
        }
    }
    versions.sort();
    versions.dedup();
    versions
}

/// Sorted by this order, each neighbour agrees with dpkg (so the whole order does, dpkg's being
/// a total preorder); and thousands of random pairs agree too, in both directions.
#[test]
fn dpkg_order_is_dpkgs() {
    if Command::new("dpkg").arg("--version").output().is_err() {
        return reference_missing("dpkg");
    }
    let texts = dpkg_versions();
    let parsed: Vec<Version> = texts.iter().map(|t| Scheme::Dpkg.parse(t).unwrap()).collect();
    let mut order: Vec<usize> = (0..texts.len()).collect();
    order.sort_by(|&a, &b| parsed[a].compare(&parsed[b]).unwrap());
    let mut pairs: Vec<(usize, usize)> = order.windows(2).map(|w| (w[0], w[1])).collect();
    let mut random = Lcg(20);
    for _ in 0..2500 {
        pairs.push((random.below(texts.len()), random.below(texts.len())));
    }
    let mut input = String::new();
    for &(a, b) in &pairs {
        input.push_str(&format!("{}\t{}\n", texts[a], texts[b]));
    }
    // One shell for all the pairs: dpkg itself decides each.
    let script = r#"while IFS="$(printf '\t')" read -r a b; do
        if dpkg --compare-versions "$a" lt "$b" 2>/dev/null; then echo '<';
        elif dpkg --compare-versions "$a" eq "$b" 2>/dev/null; then echo '=';
        else echo '>'; fi; done"#;
    let answers = run("sh", &["-c", script], &input);
    let answers: Vec<&str> = answers.lines().collect();
    assert_eq!(answers.len(), pairs.len());
    let mut disagreements = Vec::new();
    for (&(a, b), want) in pairs.iter().zip(&answers) {
        let ours = sign(parsed[a].compare(&parsed[b]).unwrap());
        if ours != *want {
            disagreements.push(format!("{} {ours} {} (dpkg: {want})", texts[a], texts[b]));
        }
    }
    assert!(disagreements.is_empty(), "{disagreements:#?}");
    assert!(texts.len() > 50 && pairs.len() > 2500, "{} versions", texts.len());
    eprintln!(
        "{} versions, {} pairs: all as dpkg orders them",
        texts.len(),
        pairs.len()
    );
}

/// A Python with PyPA's `packaging`: the one on PATH, or Debian's (python3-packaging).
fn python_with_packaging() -> Option<&'static str> {
    ["python3", "/usr/bin/python3"].into_iter().find(|p| {
        Command::new(p)
            .args(["-c", "import packaging.version"])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    })
}

/// PEP 440 forms, spelled the ways PEP 440 normalises, against `packaging.version.Version` on
/// every pair.
#[test]
fn pep440_order_is_packagings() {
    let Some(python) = python_with_packaging() else {
        return reference_missing("python3 with packaging (python3-packaging)");
    };
    let versions = [
        "0",
        "0.1",
        "1",
        "1.0",
        "1.0.0",
        "1.0.0.0",
        "1.0.1",
        "1.1",
        "1.10",
        "1.2",
        "2",
        "10.0",
        "1!0.1",
        "1!1.0",
        "2!0",
        "1.0a1",
        "1.0alpha1",
        "1.0a",
        "1.0a2",
        "1.0a10",
        "1.0b1",
        "1.0beta2",
        "1.0c1",
        "1.0rc1",
        "1.0pre1",
        "1.0preview1",
        "1.0.post1",
        "1.0post1",
        "1.0-1",
        "1.0.rev1",
        "1.0r1",
        "1.0.post1.dev1",
        "1.0.dev0",
        "1.0.dev1",
        "1.0dev",
        "1.0a1.dev1",
        "1.0a1.post1",
        "1.0a1.post1.dev1",
        "1.0rc1.post1",
        "1.0+local",
        "1.0+local.1",
        "1.0+local.2",
        "1.0+local.10",
        "1.0+1",
        "1.0+abc.5",
        "1.0+abc.foo",
        "1.0+5",
        "1.0+0",
        "1.0.post1+local",
        "1.0a1+local",
        "v1.0",
        "V1.0",
        " 1.0 ",
        "1.0_a_1",
        "1.0-a-1",
        "1.0.A1",
        "01.0",
        "1.01",
        "2.31.0",
        "2.32.0",
        "2.32.3",
        "2.32.4",
        "0.0.0",
        "0.0.0.dev0",
        "1.0.0rc1",
        "1.0.0-rc.1",
        "3.0.0.post0",
    ];
    let parsed: Vec<Version> = versions.iter().map(|v| Scheme::Pep440.parse(v).unwrap()).collect();
    let script = "import sys\nfrom packaging.version import Version\nvs=[Version(l.rstrip('\\n')) for l in sys.stdin]\n\
                  for a in vs:\n    print(''.join('<' if a < b else '=' if a == b else '>' for b in vs))\n";
    let answers = run(python, &["-c", script], &versions.map(|v| format!("{v}\n")).concat());
    let mut disagreements = Vec::new();
    for ((a, pa), row) in versions.iter().zip(&parsed).zip(answers.lines()) {
        for ((b, pb), want) in versions.iter().zip(&parsed).zip(row.chars()) {
            let ours = sign(pa.compare(pb).unwrap());
            if ours != want.to_string() {
                disagreements.push(format!("{a:?} {ours} {b:?} (packaging: {want})"));
            }
        }
    }
    assert_eq!(answers.lines().count(), versions.len());
    assert!(disagreements.is_empty(), "{disagreements:#?}");
}

#[test]
fn pep440_refuses_what_is_not_pep440() {
    for bad in ["", "1.0-beta-x", "latest", "1.0+", "1.0.post1.post2", "1..0"] {
        assert!(Scheme::Pep440.parse(bad).is_err(), "{bad:?}");
    }
}

/// semver.org §11's precedence example, and build metadata that does not count.
#[test]
fn semver_precedence() {
    let chain = [
        "1.0.0-alpha",
        "1.0.0-alpha.1",
        "1.0.0-alpha.beta",
        "1.0.0-beta",
        "1.0.0-beta.2",
        "1.0.0-beta.11",
        "1.0.0-rc.1",
        "1.0.0",
        "2.0.0",
        "2.1.0",
        "2.1.1",
    ];
    for w in chain.windows(2) {
        let (a, b) = (Scheme::Semver.parse(w[0]).unwrap(), Scheme::Semver.parse(w[1]).unwrap());
        assert_eq!(a.compare(&b), Some(Ordering::Less), "{} < {}", w[0], w[1]);
    }
    let (a, b) = (
        Scheme::Semver.parse("1.0.0+build.1").unwrap(),
        Scheme::Semver.parse("1.0.0+build.2").unwrap(),
    );
    assert_eq!(a.compare(&b), Some(Ordering::Equal));
    for bad in ["1.0", "1.0.0.0", "01.0.0", "1.0.0-", "x"] {
        assert!(Scheme::Semver.parse(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn versions_of_different_schemes_have_no_order() {
    let (a, b) = (Scheme::Dpkg.parse("1.0").unwrap(), Scheme::Apk.parse("1.0").unwrap());
    assert_eq!(a.compare(&b), None);
}

/// node-semver, the order npm itself uses: npm's own copy, or Debian's node-semver.
fn node_semver() -> Option<String> {
    let candidates = [
        "/usr/lib/node_modules/npm/node_modules/semver",
        "/usr/share/nodejs/semver",
        "/usr/local/lib/node_modules/npm/node_modules/semver",
    ];
    let found = candidates
        .iter()
        .find(|c| std::path::Path::new(c).join("package.json").is_file())?;
    Command::new("node").arg("--version").output().ok()?;
    Some((*found).to_owned())
}

/// npm's versions: the semver crate's precedence against node-semver's `compare` on every pair.
#[test]
fn semver_order_is_node_semvers() {
    let Some(module) = node_semver() else {
        return reference_missing("node and node-semver (npm)");
    };
    let versions = [
        "0.0.0",
        "0.0.1",
        "0.1.0",
        "1.0.0-0",
        "1.0.0-0.3.7",
        "1.0.0-alpha",
        "1.0.0-alpha.1",
        "1.0.0-alpha.beta",
        "1.0.0-beta",
        "1.0.0-beta.2",
        "1.0.0-beta.11",
        "1.0.0-rc.1",
        "1.0.0-x.7.z.92",
        "1.0.0-x-y-z.--",
        "1.0.0",
        "1.0.0+build",
        "1.0.0+20130313144700",
        "1.0.1",
        "1.2.3-1",
        "1.2.3-11",
        "1.2.3-2",
        "1.2.3-a1",
        "1.2.3-a10",
        "1.2.3-a2",
        "1.10.0",
        "1.9.9",
        "2.0.0-rc.1+build.123",
        "2.0.0",
        "5.7.1",
        "5.7.2",
        "6.3.0",
        "6.3.1",
        "7.5.1",
        "7.5.2",
        "10.0.0",
        "99999999999.0.0",
    ];
    let parsed: Vec<Version> = versions.iter().map(|v| Scheme::Semver.parse(v).unwrap()).collect();
    let script = format!(
        "const s = require({module:?}); const vs = require('fs').readFileSync(0, 'utf8').trim().split('\\n');\n\
         for (const a of vs) console.log(vs.map(b => ['<', '=', '>'][s.compare(a, b) + 1]).join(''));"
    );
    let answers = run("node", &["-e", &script], &versions.map(|v| format!("{v}\n")).concat());
    assert_eq!(answers.lines().count(), versions.len());
    let mut disagreements = Vec::new();
    for ((a, pa), row) in versions.iter().zip(&parsed).zip(answers.lines()) {
        for ((b, pb), want) in versions.iter().zip(&parsed).zip(row.chars()) {
            let ours = sign(pa.compare(pb).unwrap());
            if ours != want.to_string() {
                disagreements.push(format!("{a} {ours} {b} (node-semver: {want})"));
            }
        }
    }
    assert!(disagreements.is_empty(), "{disagreements:#?}");
}
