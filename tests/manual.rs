//! Shell completions and manual pages, as `scripts/install` installs them: generated from the
//! clap definitions by the binary itself, each read by the program that uses it — bash and fish
//! complete sealkit's subcommands and options from them, zsh parses its script, groff formats
//! every page without a warning — and the same bytes every time.

use std::path::Path;
use std::process::Command;

fn present(tool: &str) -> bool {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        found || std::env::var_os("CI").is_none(),
        "CI installs {tool} (scripts/test)"
    );
    found
}

fn sealkit() -> assert_cmd::Command {
    assert_cmd::Command::cargo_bin("sealkit").unwrap()
}

#[test]
fn installed_completions_complete_and_every_manual_page_formats_cleanly() {
    let tmp = tempfile::tempdir().unwrap();
    let prefix = tmp.path().join("prefix");
    let install = Command::new(Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/install"))
        .arg(&prefix)
        .env("SEALKIT", env!("CARGO_BIN_EXE_sealkit"))
        .output()
        .unwrap();
    assert!(install.status.success(), "{}", String::from_utf8_lossy(&install.stderr));
    assert!(prefix.join("bin/sealkit").is_file());

    // bash: the function the script registers completes a subcommand, then its options.
    let bash = prefix.join("share/bash-completion/completions/sealkit");
    let complete = |words: &str, cword: usize| {
        let script = format!(
            "source {}; complete -p sealkit >/dev/null || exit 3; COMP_WORDS=({words}); COMP_CWORD={cword}; _sealkit sealkit \"${{COMP_WORDS[$COMP_CWORD]}}\" \"${{COMP_WORDS[$COMP_CWORD-1]}}\"; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
            bash.display()
        );
        let out = Command::new("bash").args(["-c", &script]).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    assert!(complete("sealkit bu", 1).lines().any(|l| l == "build"));
    let options = complete("sealkit build --ver", 2);
    assert!(options.lines().any(|l| l == "--verity"), "{options}");
    assert!(
        complete("sealkit verify-bundle --certificate-identity-r", 2)
            .lines()
            .any(|l| l == "--certificate-identity-regexp")
    );

    if present("fish") {
        let fish = prefix.join("share/fish/vendor_completions.d/sealkit.fish");
        let out = Command::new("fish")
            .arg("-c")
            .arg(format!(
                "source {}; complete -C 'sealkit bu'; complete -C 'sealkit build --ver'",
                fish.display()
            ))
            .output()
            .unwrap();
        let said = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && said.contains("build\tBuild the OS image"),
            "{said}"
        );
        assert!(said.contains("--verity\t"), "{said}");
    }
    if present("zsh") {
        let zsh = prefix.join("share/zsh/site-functions/_sealkit");
        assert!(std::fs::read_to_string(&zsh).unwrap().starts_with("#compdef sealkit"));
        let out = Command::new("zsh").arg("-n").arg(&zsh).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }

    // One page per command and subcommand, none for the hidden policy evaluator; each formats
    // without a warning, and the build page documents its options.
    let man1 = prefix.join("share/man/man1");
    let mut pages: Vec<String> = std::fs::read_dir(&man1)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    pages.sort();
    for page in [
        "sealkit.1",
        "sealkit-build.1",
        "sealkit-gate.1",
        "sealkit-image-import.1",
        "sealkit-trust-update.1",
    ] {
        assert!(pages.iter().any(|p| p == page), "{page} missing: {pages:?}");
    }
    assert!(!pages.iter().any(|p| p.contains("evaluate")), "{pages:?}");
    if present("groff") {
        for page in &pages {
            let out = Command::new("groff")
                .args(["-man", "-Tutf8", "-ww", "-z"])
                .arg(man1.join(page))
                .output()
                .unwrap();
            assert!(
                out.status.success() && out.stderr.is_empty(),
                "{page}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let out = Command::new("groff")
            .args(["-man", "-Tutf8", "-P", "-cbou"])
            .arg(man1.join("sealkit-build.1"))
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        for option in ["--verity", "--sign-uki", "--format"] {
            assert!(text.contains(option), "{option}: {text}");
        }
    }

    // The same bytes every time: no date, nothing of the machine's.
    let again = tmp.path().join("again");
    sealkit().arg("man").arg("-o").arg(&again).assert().success();
    for page in &pages {
        assert!(
            std::fs::read(man1.join(page)).unwrap() == std::fs::read(again.join(page)).unwrap(),
            "{page} differs between two runs"
        );
    }
}

#[test]
fn an_unknown_shell_or_an_unwritable_folder_exits_2() {
    let out = sealkit().args(["completions", "tcsh"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("invalid value 'tcsh'"));
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("a-file");
    std::fs::write(&file, "").unwrap();
    let out = sealkit().args(["man", "-o"]).arg(file.join("man1")).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains("cannot write the manual pages") && said.contains("hint:"),
        "{said}"
    );
    // A reader that stops early is not an error (and not a panic).
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "{} completions bash | head -c 10",
            env!("CARGO_BIN_EXE_sealkit")
        ))
        .output()
        .unwrap();
    assert!(out.stderr.is_empty(), "{}", String::from_utf8_lossy(&out.stderr));
}
