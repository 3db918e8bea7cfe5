//! `sealkit completions SHELL` and `sealkit man`: shell completion scripts and manual pages,
//! generated from the same clap definitions that parse the arguments, so they cannot drift
//! from the commands (clap_complete, clap_mangen). `scripts/install` installs both.

use std::path::PathBuf;

use clap::CommandFactory as _;

use super::{Failure, Outcome, print_with};

#[derive(clap::Args)]
pub struct CompletionsArgs {
    /// The shell to complete for
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(clap::Args)]
pub struct ManArgs {
    /// Write sealkit.1 and one page per subcommand (sealkit-build.1, sealkit-image-import.1, …)
    /// into this folder; without it, sealkit.1 is printed
    #[arg(short, long, value_name = "DIR")]
    pub output: Option<PathBuf>,
}

pub fn completions(args: &CompletionsArgs) -> Outcome {
    let mut command = crate::Cli::command();
    // Into memory first: the generator panics on a write error, a reader's `| head` included.
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut command, "sealkit", &mut script);
    print_with(|out| out.write_all(&script))
}

pub fn man(args: &ManArgs) -> Outcome {
    let command = crate::Cli::command();
    let Some(dir) = &args.output else {
        let mut page = Vec::new();
        clap_mangen::Man::new(command)
            .render(&mut page)
            .map_err(|e| Failure::usage(format!("error: rendering the manual page: {e}")))?;
        return print_with(|out| out.write_all(ascii_roff(&String::from_utf8_lossy(&page)).as_bytes()));
    };
    let failed = |e: std::io::Error| Failure {
        message: format!(
            "error: {}: cannot write the manual pages: {e}\n  hint: choose a folder you can write",
            dir.display()
        ),
        code: 2,
    };
    std::fs::create_dir_all(dir).map_err(failed)?;
    clap_mangen::generate_to(command, dir).map_err(failed)?;
    let mut pages: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(failed)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "1"))
        .collect();
    pages.sort();
    for page in pages {
        let text = std::fs::read_to_string(&page).map_err(failed)?;
        std::fs::write(&page, ascii_roff(&text)).map_err(failed)?;
    }
    Ok(())
}

/// `page` with every character beyond ASCII written as groff's `\[uXXXX]`: the help text's
/// dashes and ellipses are UTF-8, which troff reads as Latin-1 unless a preprocessor (man-db's
/// preconv) converted them first.
fn ascii_roff(page: &str) -> String {
    let mut out = String::with_capacity(page.len());
    for c in page.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            out.push_str(&format!("\\[u{:04X}]", u32::from(c)));
        }
    }
    out
}
