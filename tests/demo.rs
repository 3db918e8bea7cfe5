//! After `scripts/demo`, the README's next commands work in the same shell: they are read from
//! the README itself and run against a fresh store holding what the demo leaves behind (its
//! images imported as `sealkit-fixtures/NAME:1`, `examples/demo.lock.json` pinned to them).

use std::path::Path;

mod common;

/// The `sealkit …` lines of the README's next-commands block, without their comments.
fn next_commands() -> Vec<Vec<String>> {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let (_, after) = readme
        .split_once("<!-- next-commands")
        .expect("README.md marks its next commands with <!-- next-commands … -->");
    let block = after.split("```sh\n").nth(1).unwrap().split("```").next().unwrap();
    block
        .lines()
        .filter_map(|line| line.split('#').next().unwrap().trim().strip_prefix("sealkit "))
        .map(|args| args.split_whitespace().map(str::to_owned).collect())
        .collect()
}

#[test]
fn the_readme_next_commands_work_after_the_demo() {
    let commands = next_commands();
    let first = |word: &str| commands.iter().any(|c| c.first().map(String::as_str) == Some(word));
    assert!(first("build") && first("sbom"), "{commands:?}");
    let tmp = tempfile::tempdir().unwrap();
    // The store stands in for the default one: the demo imports there, as these helpers do.
    let Some((store, config)) = common::demo(tmp.path(), &common::DEMO_IMAGES) else {
        return;
    };
    let shell = tmp.path().join("checkout");
    std::fs::create_dir_all(shell.join("examples")).unwrap();
    std::fs::rename(&config, shell.join("examples/demo.yml")).unwrap();
    common::sealkit(&store)
        .current_dir(&shell)
        .args(["lock", "examples/demo.yml", "--offline"])
        .assert()
        .success();
    for args in &commands {
        common::sealkit(&store)
            .current_dir(&shell)
            .args(args)
            .assert()
            .success();
    }
    assert!(shell.join("out/demo-initrd.img").is_file());
}
