//! Error codes are a contract: unique across stages, and each documented in docs/errors.md,
//! whose table is this list (`SEALKIT_BLESS=1 cargo test --test errors` rewrites it).

use std::collections::BTreeSet;
use std::path::Path;

const START: &str = "<!-- codes: generated from sealkit::error_codes() -->";
const END: &str = "<!-- end of codes -->";

fn table() -> String {
    let mut out = String::from("| code | stage | meaning |\n|---|---|---|\n");
    for (stage, code, meaning) in sealkit::error_codes() {
        out.push_str(&format!("| `{code}` | {stage} | {meaning} |\n"));
    }
    out
}

#[test]
fn codes_are_unique_and_kebab_case() {
    let mut seen = BTreeSet::new();
    for (stage, code, meaning) in sealkit::error_codes() {
        assert!(seen.insert(code), "{code} is used by two stages (the second: {stage})");
        assert!(
            code.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'),
            "{code}: codes are kebab-case"
        );
        assert!(meaning.ends_with('.'), "{code}: say what it means in a sentence");
    }
}

#[test]
fn docs_errors_md_lists_every_code() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/errors.md");
    let text = std::fs::read_to_string(&path).unwrap();
    let (before, rest) = text.split_once(START).expect("the start marker");
    let (_, after) = rest.split_once(END).expect("the end marker");
    let expected = format!("{before}{START}\n{}{END}{after}", table());
    if std::env::var_os("SEALKIT_BLESS").is_some() {
        std::fs::write(&path, &expected).unwrap();
        return;
    }
    assert!(
        text == expected,
        "docs/errors.md's table differs from the codes: run SEALKIT_BLESS=1 cargo test --test errors"
    );
}
