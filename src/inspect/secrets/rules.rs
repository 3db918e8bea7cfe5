//! The rules: trivy's secret rules (ids, categories, severities verbatim; regexes rewritten with
//! every repetition bounded, so that a match has a longest length and the scanner a bounded
//! window), our generic assignment rule, and the credential file names dockle flags.

use std::sync::LazyLock;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind};
use regex::bytes::{Captures, Regex, RegexBuilder};
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Severity {
    Low,
    Medium,
    High,
    Critical,
}

/// What a finding reports, for people and for SARIF: trivy's metadata where the rule is trivy's.
#[derive(Debug, Serialize)]
pub struct Rule {
    pub id: &'static str,
    pub category: &'static str,
    pub title: &'static str,
    pub severity: Severity,
    /// The same check's ids in other tools.
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pub aliases: &'static [&'static str],
}

const fn rule(id: &'static str, category: &'static str, title: &'static str, severity: Severity) -> Rule {
    Rule {
        id,
        category,
        title,
        severity,
        aliases: &[],
    }
}

use Severity::{Critical, High, Medium};

pub static AWS_ACCESS_KEY_ID: Rule = rule("aws-access-key-id", "AWS", "AWS Access Key ID", Critical);
pub static AWS_SECRET_ACCESS_KEY: Rule = rule("aws-secret-access-key", "AWS", "AWS Secret Access Key", Critical);
pub static GITHUB_PAT: Rule = rule("github-pat", "GitHub", "GitHub Personal Access Token", Critical);
pub static GITHUB_OAUTH: Rule = rule("github-oauth", "GitHub", "GitHub OAuth Access Token", Critical);
pub static GITHUB_APP_TOKEN: Rule = rule("github-app-token", "GitHub", "GitHub App Token", Critical);
pub static GITHUB_REFRESH_TOKEN: Rule = rule("github-refresh-token", "GitHub", "GitHub Refresh Token", Critical);
pub static GITHUB_FINE_GRAINED_PAT: Rule = rule(
    "github-fine-grained-pat",
    "GitHub",
    "GitHub Fine-grained personal access tokens",
    Critical,
);
pub static GITLAB_PAT: Rule = rule("gitlab-pat", "GitLab", "GitLab Personal Access Token", Critical);
pub static HUGGING_FACE: Rule = rule(
    "hugging-face-access-token",
    "HuggingFace",
    "Hugging Face Access Token",
    Critical,
);
pub static PRIVATE_KEY: Rule = rule("private-key", "AsymmetricPrivateKey", "Asymmetric Private Key", High);
pub static SLACK_ACCESS_TOKEN: Rule = rule("slack-access-token", "Slack", "Slack token", High);
pub static SLACK_WEB_HOOK: Rule = rule("slack-web-hook", "Slack", "Slack Webhook", Medium);
pub static STRIPE_SECRET_TOKEN: Rule = rule("stripe-secret-token", "Stripe", "Stripe Secret Key", Critical);
pub static NPM_ACCESS_TOKEN: Rule = rule("npm-access-token", "Npm", "npm access token", Critical);
pub static PYPI_UPLOAD_TOKEN: Rule = rule("pypi-upload-token", "PyPI", "PyPI upload token", High);
pub static GCP_SERVICE_ACCOUNT: Rule = rule(
    "gcp-service-account",
    "Google",
    "Google (GCP) Service-account",
    Critical,
);
pub static JWT_TOKEN: Rule = rule("jwt-token", "JWT", "JWT token", Medium);
pub static AGE_SECRET_KEY: Rule = rule("age-secret-key", "Age", "Age secret key", Medium);
pub static DOCKERCONFIG_SECRET: Rule = rule("dockerconfig-secret", "Docker", "Dockerconfig secret exposed", High);
/// Ours: trivy has no generic rule; gitleaks' `generic-api-key` is the model.
pub static GENERIC_SECRET: Rule = rule(
    "generic-secret-assignment",
    "Generic",
    "High-entropy value assigned to a password, secret or token",
    Medium,
);
/// Ours, after dockle's CIS-DI-0010 ("Do not store credential in environment variables/files"):
/// a file whose name or place says it holds credentials.
pub static CREDENTIAL_FILE: Rule = Rule {
    id: "credential-file",
    category: "CredentialFile",
    title: "Credential file",
    severity: High,
    aliases: &["CIS-DI-0010"],
};

/// Every rule a finding can name, for rule metadata (SARIF, docs).
pub static RULES: &[&Rule] = &[
    &AWS_ACCESS_KEY_ID,
    &AWS_SECRET_ACCESS_KEY,
    &GITHUB_PAT,
    &GITHUB_OAUTH,
    &GITHUB_APP_TOKEN,
    &GITHUB_REFRESH_TOKEN,
    &GITHUB_FINE_GRAINED_PAT,
    &GITLAB_PAT,
    &HUGGING_FACE,
    &PRIVATE_KEY,
    &SLACK_ACCESS_TOKEN,
    &SLACK_WEB_HOOK,
    &STRIPE_SECRET_TOKEN,
    &NPM_ACCESS_TOKEN,
    &PYPI_UPLOAD_TOKEN,
    &GCP_SERVICE_ACCOUNT,
    &JWT_TOKEN,
    &AGE_SECRET_KEY,
    &DOCKERCONFIG_SECRET,
    &GENERIC_SECRET,
    &CREDENTIAL_FILE,
];

/// One way a rule matches file content.
pub(super) struct Pattern {
    pub rule: &'static Rule,
    /// Literals of which one occurs inside every match: the prefilter, and the anchor of the
    /// window the regex runs on.
    pub keywords: &'static [&'static str],
    /// Whether the keywords match in any ASCII case (where the regex itself ignores case).
    pub any_case: bool,
    /// Bytes, ASCII (no Unicode classes); the group `secret` is what is redacted (else the
    /// whole match).
    pub regex: &'static str,
    /// Also run on binary files (see `docs/secrets.md`).
    pub in_binaries: bool,
    /// Run only on files whose path passes.
    pub only_in: Option<fn(&str) -> bool>,
    /// A last judgement on the match (its groups `secret` and, where there is one, `key`).
    pub accept: fn(&Captures) -> bool,
}

fn always(_: &Captures) -> bool {
    true
}

/// A pattern with trivy's defaults: keywords as written, text files only, every file.
const fn pattern(rule: &'static Rule, keywords: &'static [&'static str], regex: &'static str) -> Pattern {
    Pattern {
        rule,
        keywords,
        any_case: false,
        regex,
        in_binaries: false,
        only_in: None,
        accept: always,
    }
}

// trivy's `startWord`: a token must not continue a longer word.
macro_rules! word {
    ($body:literal) => {
        concat!("(?:^|[^0-9a-zA-Z])(?P<secret>", $body, ")")
    };
}

pub(super) static PATTERNS: &[Pattern] = &[
    pattern(
        &AWS_ACCESS_KEY_ID,
        // trivy omits `A3T`, so its keywords miss the ids its own regex matches.
        &["AKIA", "AGPA", "AIDA", "AROA", "AIPA", "ANPA", "ANVA", "ASIA", "A3T"],
        concat!(
            word!("(?:A3T[A-Z0-9]|AKIA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|ASIA)[A-Z0-9]{16}"),
            r#"["']?[.,]?(?:\s|$)"#
        ),
    ),
    Pattern {
        any_case: true,
        ..pattern(
            &AWS_SECRET_ACCESS_KEY,
            &["aws"],
            r#"(?i)["']?aws_?(?:sec(?:ret)?)?_?(?:access)?_?key["']?\s{0,16}(?::|=>|=)?\s{0,16}["']?(?P<secret>[A-Za-z0-9/+=]{40})["']?[.,]?(?:\s|$)"#,
        )
    },
    pattern(&GITHUB_PAT, &["ghp_"], word!("ghp_[0-9a-zA-Z]{36}")),
    pattern(&GITHUB_OAUTH, &["gho_"], word!("gho_[0-9a-zA-Z]{36}")),
    pattern(
        &GITHUB_APP_TOKEN,
        &["ghu_", "ghs_"],
        word!("(?:ghu|ghs)_[0-9a-zA-Z]{36}"),
    ),
    pattern(&GITHUB_REFRESH_TOKEN, &["ghr_"], word!("ghr_[0-9a-zA-Z]{76}")),
    pattern(
        &GITHUB_FINE_GRAINED_PAT,
        &["github_pat_"],
        r"(?P<secret>github_pat_[a-zA-Z0-9]{22}_[a-zA-Z0-9]{59})",
    ),
    pattern(&GITLAB_PAT, &["glpat-"], word!("glpat-[0-9a-zA-Z_-]{20}")),
    pattern(&HUGGING_FACE, &["hf_"], word!("hf_[A-Za-z0-9]{34,40}")),
    Pattern {
        any_case: true,
        in_binaries: true,
        // trivy's, plus RFC 1421 header lines (`Proc-Type:`, `DEK-Info:` of encrypted PEM) that
        // its body class refuses.
        ..pattern(
            &PRIVATE_KEY,
            &["PRIVATE KEY"],
            concat!(
                r"(?i)-----\s{0,8}BEGIN[ A-Z0-9_-]{0,40}PRIVATE KEY(?: BLOCK)?\s{0,8}-----\s{0,8}",
                r"(?:[A-Z0-9-]{1,40}:[^\r\n]{0,200}\r?\n){0,4}\s{0,8}",
                r"(?P<secret>[A-Za-z0-9=+/\\\r\n][A-Za-z0-9=+/\\\s]{31,16384})",
                r"\s{0,8}-----\s{0,8}END[ A-Z0-9_-]{0,40} PRIVATE KEY(?: BLOCK)?\s{0,8}-----"
            ),
        )
    },
    pattern(
        &SLACK_ACCESS_TOKEN,
        &["xoxb-", "xoxa-", "xoxp-", "xoxr-", "xoxs-"],
        word!("xox[baprs]-[0-9a-zA-Z]{10,48}"),
    ),
    pattern(
        &SLACK_WEB_HOOK,
        &["hooks.slack.com"],
        r"https://hooks\.slack\.com/services/(?P<secret>[A-Za-z0-9+/]{44,48})",
    ),
    Pattern {
        any_case: true,
        ..pattern(
            &STRIPE_SECRET_TOKEN,
            &["sk_test_", "sk_live_"],
            word!("(?i)sk_(?:test|live)_[0-9a-z]{10,32}"),
        )
    },
    pattern(
        &NPM_ACCESS_TOKEN,
        &["npm_"],
        r#"["'](?P<secret>npm_(?i)[a-z0-9]{36})["']"#,
    ),
    pattern(
        &PYPI_UPLOAD_TOKEN,
        &["pypi-AgEIcHlwaS5vcmc"],
        r"(?P<secret>pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,1000})",
    ),
    // No secret in the match: it says the file is a service account key, whose private key
    // the private-key rule reports on its own.
    pattern(
        &GCP_SERVICE_ACCOUNT,
        &[r#""type": "service_account""#],
        r#""type": "service_account""#,
    ),
    pattern(
        &JWT_TOKEN,
        &[".eyJ"],
        r"(?P<secret>ey[a-zA-Z0-9]{17,2048}\.ey[a-zA-Z0-9/\\_-]{17,8192}\.(?:[a-zA-Z0-9/\\_-]{10,2048}={0,2})?)",
    ),
    pattern(
        &AGE_SECRET_KEY,
        &["AGE-SECRET-KEY-1"],
        r"(?P<secret>AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58})",
    ),
    Pattern {
        any_case: true,
        ..pattern(
            &DOCKERCONFIG_SECRET,
            &["dockerc"],
            r"(?i)\.(?:dockerconfigjson|dockercfg):\s{0,16}\|{0,2}\s{0,16}(?P<secret>(?:ey|ew)[A-Za-z0-9/+=]{1,16384})",
        )
    },
    Pattern {
        any_case: true,
        accept: high_entropy_value,
        ..pattern(
            &GENERIC_SECRET,
            &["password", "passwd", "secret", "token"],
            concat!(
                r"(?i)(?:^|[^a-z0-9_.-])(?P<key>[a-z0-9_.-]{0,32}(?:password|passwd|secret|token)[a-z0-9_.-]{0,32})",
                r#"["']?[ \t]{0,8}(?:=|:=|:|=>)[ \t]{0,8}["']?"#,
                r"(?P<secret>[A-Za-z0-9!#%&*+\-./:=?@^_~]{8,256})"
            ),
        )
    },
    // A kubeconfig's bearer token, client key or password.
    Pattern {
        only_in: Some(is_kubeconfig),
        ..pattern(
            &CREDENTIAL_FILE,
            &["token", "client-key-data", "password"],
            r#"(?m)^[ \t-]{0,16}(?:token|client-key-data|password)[ \t]{0,8}:[ \t]{0,8}["']?(?P<secret>[^\s"']{8,16384})"#,
        )
    },
    // A Docker client config's registry credentials.
    Pattern {
        only_in: Some(is_docker_config),
        ..pattern(
            &CREDENTIAL_FILE,
            &[r#""auth""#, r#""identitytoken""#],
            r#""(?:auth|identitytoken)"\s{0,8}:\s{0,8}"(?P<secret>[A-Za-z0-9+/=_.-]{4,16384})""#,
        )
    },
];

/// trivy's `examples` allow rule, on the match: documentation's sample keys such as AWS's
/// `AKIAIOSFODNN7EXAMPLE` are not secrets. (Its path half, any path naming "example", is not
/// followed: a key stays a key wherever it sits.)
pub(super) fn allowed(matched: &[u8]) -> bool {
    matched.windows(7).any(|w| w.eq_ignore_ascii_case(b"example"))
}

/// The generic rule's judgement: a value shaped like a generated secret or a real password,
/// not a placeholder, a variable, a path, a URL or a dotted name from code; under a name that
/// does not say it holds something else (`token_type`, `password_file`, `secret_name` …).
fn high_entropy_value(captures: &Captures) -> bool {
    const PLACEHOLDERS: &[&str] = &[
        "changeme",
        "change_me",
        "placeholder",
        "dummy",
        "sample",
        "redacted",
        "xxxx",
        "****",
        "your_",
        "your-",
        "password",
        "secret",
        "token",
    ];
    const NOT_SECRETS: &[&str] = &[
        "name", "type", "file", "path", "dir", "url", "uri", "endpoint", "id", "hash", "length", "len", "size",
        "count", "env", "var", "field", "format", "mode", "prefix",
    ];
    let group = |name| captures.name(name).map_or(&b""[..], |m| m.as_bytes());
    let key = group("key").to_ascii_lowercase();
    let last_word = key.rsplit(|b| matches!(b, b'_' | b'-' | b'.')).next().unwrap_or(&[]);
    if NOT_SECRETS.iter().any(|w| w.as_bytes() == last_word) {
        return false;
    }
    let value = group("secret");
    let lower = value.to_ascii_lowercase();
    let contains = |needle: &str| lower.windows(needle.len()).any(|w| w == needle.as_bytes());
    let dotted_name = value.contains(&b'.')
        && value
            .split(|&b| b == b'.')
            .all(|part| part.first().is_some_and(|b| b.is_ascii_alphabetic() || *b == b'_'));
    value.iter().any(u8::is_ascii_digit)
        && value.iter().any(u8::is_ascii_alphabetic)
        && !matches!(value.first(), Some(b'/' | b'.' | b'~'))
        && !contains("://")
        && !dotted_name
        && !PLACEHOLDERS.iter().any(|p| contains(p))
        && shannon_entropy(value) >= 3.0
}

/// Bits per byte of the value's own byte distribution.
pub(super) fn shannon_entropy(value: &[u8]) -> f64 {
    let mut counts = [0u32; 256];
    for &b in value {
        counts[usize::from(b)] += 1;
    }
    let n = value.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = f64::from(c) / n;
            -p * p.log2()
        })
        .sum()
}

fn base_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

fn is_kubeconfig(path: &str) -> bool {
    let name = base_name(path);
    name == "kubeconfig"
        || name.ends_with(".kubeconfig")
        || path.ends_with(".kube/config")
        || (path.contains("etc/kubernetes/") && name.ends_with(".conf"))
}

fn is_docker_config(path: &str) -> bool {
    path.ends_with(".docker/config.json") || base_name(path) == ".dockercfg"
}

/// Why a file's name alone makes it a credential file, if it does: dockle's CIS-DI-0010 names
/// and extensions (`pkg/assessor/credential`), plus client credential stores and SSH host keys.
pub fn credential_file(path: &str) -> Option<&'static str> {
    const NAMES: &[(&str, &str)] = &[
        ("credentials.json", "credentials file"),
        ("credential.json", "credentials file"),
        ("credentials", "credentials file"),
        ("credential", "credentials file"),
        ("credentials.xml", "credentials file"),
        ("password.txt", "password file"),
        ("id_rsa", "SSH private key"),
        ("id_dsa", "SSH private key"),
        ("id_ecdsa", "SSH private key"),
        ("id_ecdsa_sk", "SSH private key"),
        ("id_ed25519", "SSH private key"),
        ("id_ed25519_sk", "SSH private key"),
        ("secret_token.rb", "Rails secret token"),
        ("carrierwave.rb", "CarrierWave configuration (cloud storage keys)"),
        ("omniauth.rb", "OmniAuth configuration (OAuth secrets)"),
        ("settings.py", "Django settings (SECRET_KEY)"),
        ("database.yml", "Rails database configuration (passwords)"),
        (".env", "environment file"),
        (".netrc", "netrc (login passwords)"),
        (".git-credentials", "git credential store"),
    ];
    const EXTENSIONS: &[(&str, &str)] = &[
        ("secret", "secret file"),
        ("ovpn", "OpenVPN profile"),
        ("private_key", "private key file"),
        ("cscfg", "Azure cloud service configuration"),
        ("rdp", "remote desktop profile"),
        ("mdf", "SQL Server database"),
        ("sdf", "SQL Server Compact database"),
        ("bek", "BitLocker recovery key"),
        ("tpm", "TPM key file"),
        ("fve", "BitLocker volume key"),
        ("jks", "Java keystore"),
        ("psafe3", "Password Safe database"),
        ("agilekeychain", "1Password keychain"),
        ("keychain", "macOS keychain"),
        ("pcap", "packet capture"),
        ("gnucache", "GnuCash data"),
    ];
    let name = base_name(path);
    if let Some((_, what)) = NAMES.iter().find(|(n, _)| *n == name) {
        return Some(what);
    }
    if path.starts_with("etc/ssh/") && name.starts_with("ssh_host_") && name.ends_with("_key") {
        return Some("SSH host private key");
    }
    let extension = name.rsplit_once('.').filter(|(stem, _)| !stem.is_empty())?.1;
    EXTENSIONS.iter().find(|(e, _)| *e == extension).map(|(_, what)| *what)
}

/// Keywords to patterns, one automaton per kind of file.
pub(super) struct Prefilter {
    pub automaton: AhoCorasick,
    /// For each automaton pattern: the patterns it stands for, with the keyword as written.
    pub targets: Vec<Vec<(usize, &'static str)>>,
    /// Whether a hit must be checked against the keyword's case (the automaton ignores case).
    pub folds_case: bool,
    pub longest_keyword: usize,
}

impl Prefilter {
    fn new(wanted: impl Fn(&Pattern) -> bool, folds_case: bool) -> Prefilter {
        let mut keys: Vec<Vec<u8>> = Vec::new();
        let mut targets: Vec<Vec<(usize, &'static str)>> = Vec::new();
        for (index, p) in PATTERNS.iter().enumerate().filter(|(_, p)| wanted(p)) {
            for &keyword in p.keywords {
                let key = if folds_case {
                    keyword.as_bytes().to_ascii_lowercase()
                } else {
                    keyword.as_bytes().to_vec()
                };
                match keys.iter().position(|k| *k == key) {
                    Some(at) => targets[at].push((index, keyword)),
                    None => {
                        keys.push(key);
                        targets.push(vec![(index, keyword)]);
                    }
                }
            }
        }
        let automaton = AhoCorasickBuilder::new()
            .ascii_case_insensitive(folds_case)
            // Dozens of keywords and every file's bytes: the fastest automaton is worth its
            // few kilobytes.
            .kind(Some(AhoCorasickKind::DFA))
            .build(&keys)
            .expect("the built-in keywords make a valid automaton");
        Prefilter {
            automaton,
            targets,
            folds_case,
            longest_keyword: keys.iter().map(Vec::len).max().unwrap_or(1),
        }
    }
}

/// The rules, compiled once per process.
pub(super) struct Compiled {
    pub regexes: Vec<Regex>,
    /// The longest match of each pattern: a keyword hit's window reaches this far both ways.
    pub reach: Vec<usize>,
    pub text: Prefilter,
    pub binary: Prefilter,
}

pub(super) static COMPILED: LazyLock<Compiled> = LazyLock::new(|| {
    let regexes = PATTERNS
        .iter()
        .map(|p| {
            RegexBuilder::new(p.regex)
                .unicode(false)
                .build()
                .expect("a built-in secret regex compiles")
        })
        .collect();
    let reach = PATTERNS.iter().map(|p| longest_match(p.regex)).collect();
    Compiled {
        regexes,
        reach,
        text: Prefilter::new(|_| true, true),
        binary: Prefilter::new(|p| p.in_binaries, false),
    }
});

fn longest_match(regex: &str) -> usize {
    let hir = regex_syntax::ParserBuilder::new()
        .unicode(false)
        .utf8(false)
        .build()
        .parse(regex)
        .expect("a built-in secret regex parses");
    hir.properties()
        .maximum_len()
        .expect("every repetition of a built-in secret regex is bounded")
}
