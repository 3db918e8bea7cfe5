//! Everything sealkit says on stderr, and how: progress as a bar per long stage on a terminal
//! and a line per stage where stderr is a file or a pipe (a CI log); notes and what a command
//! did as plain lines; warnings; the final error. `--log-format json` makes each of them one
//! JSON object per line; `--quiet` keeps only warnings and errors. None of it reaches an
//! output file.

use std::io::{IsTerminal as _, Write as _};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use indicatif::{HumanBytes, HumanCount, ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};
use sealkit::progress::Progress;

/// How stderr is written: `--log-format`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// For people: bars on a terminal, plain lines elsewhere
    #[default]
    Text,
    /// One JSON object per line: progress events, warnings and errors
    Json,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    Quiet,
    Lines,
    Bars,
    Json,
    /// JSON, of warnings and errors only.
    QuietJson,
}

static MODE: OnceLock<Mode> = OnceLock::new();

/// Sets how stderr is written, from the global options; stderr's being a terminal decides
/// between bars and lines.
pub fn configure(quiet: bool, format: LogFormat) {
    let terminal = std::io::stderr().is_terminal() && std::env::var_os("TERM").is_none_or(|t| t != "dumb");
    let mode = match (format, quiet, terminal) {
        (LogFormat::Json, true, _) => Mode::QuietJson,
        (LogFormat::Json, false, _) => Mode::Json,
        (_, true, _) => Mode::Quiet,
        (_, false, true) => Mode::Bars,
        (_, false, false) => Mode::Lines,
    };
    let _ = MODE.set(mode);
    if log::set_logger(&LibraryNotes).is_ok() {
        log::set_max_level(log::LevelFilter::Info);
    }
}

fn mode() -> Mode {
    *MODE.get().unwrap_or(&Mode::Lines)
}

fn json_line(value: serde_json::Value) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{value}");
}

/// A warning: `warning: …`, or `{"level":"warning","message":…}`. Printed even with --quiet.
pub fn warning(message: &str) {
    match mode() {
        Mode::Json | Mode::QuietJson => json_line(serde_json::json!({"level": "warning", "message": message})),
        _ => eprintln!("warning: {message}"),
    }
}

/// Something worth knowing that is not wrong (a file left out, a fact assumed): `note: …`;
/// nothing with --quiet.
pub fn note(message: &str) {
    match mode() {
        Mode::Quiet | Mode::QuietJson => {}
        Mode::Json => json_line(serde_json::json!({"level": "note", "message": message})),
        _ => eprintln!("note: {message}"),
    }
}

/// What a command did, beside its output (`wrote FILE`, `imported IMAGE`); nothing with --quiet.
pub fn info(message: &str) {
    match mode() {
        Mode::Quiet | Mode::QuietJson => {}
        Mode::Json => json_line(serde_json::json!({"level": "info", "message": message})),
        _ => eprintln!("{message}"),
    }
}

/// A failure, as main ends on it: its message, or `{"level":"error","exit":N,"message":…}`.
pub fn error(message: &str, exit: u8) {
    match mode() {
        Mode::Json | Mode::QuietJson => {
            json_line(serde_json::json!({"level": "error", "exit": exit, "message": message}))
        }
        _ => eprintln!("{message}"),
    }
}

/// Shows the library's `log` records as notes (info) and warnings (warn, error); records of
/// other crates (the HTTP and TLS stacks) are left out.
struct LibraryNotes;

impl log::Log for LibraryNotes {
    fn enabled(&self, metadata: &log::Metadata) -> bool {
        metadata.level() <= log::Level::Info && metadata.target().starts_with("sealkit")
    }

    fn log(&self, record: &log::Record) {
        if self.enabled(record.metadata()) {
            let message = record.args().to_string();
            match record.level() {
                log::Level::Error | log::Level::Warn => warning(&message),
                _ => note(&message),
            }
        }
    }

    fn flush(&self) {}
}

/// Runs `work` as the one stage of a command (a push, a pull), its progress shown as the
/// global options decided.
pub fn one_stage<T>(
    stage: &'static str,
    total: Option<u64>,
    unit: &'static str,
    work: impl FnOnce(&dyn Progress) -> T,
) -> T {
    let progress = Reporter::new();
    let mut stages = sealkit::progress::Stages::new(&progress);
    stages.begin(stage, total, unit);
    let done = work(&progress);
    stages.finish();
    done
}

/// What a stage has done so far: shared with the bar's template, which reads it when it draws.
#[derive(Default)]
struct Counts {
    steps: AtomicU64,
    files: AtomicU64,
    bytes: AtomicU64,
}

struct Stage {
    name: &'static str,
    total: Option<u64>,
    unit: &'static str,
    counts: Arc<Counts>,
    bar: Option<ProgressBar>,
}

/// Shows the library's progress as [`configure`] decided.
pub struct Reporter {
    mode: Mode,
    stage: Mutex<Option<Stage>>,
}

impl Reporter {
    pub fn new() -> Self {
        Reporter {
            mode: mode(),
            stage: Mutex::new(None),
        }
    }
}

impl Progress for Reporter {
    fn begin(&self, name: &'static str, total: Option<u64>, unit: &'static str) {
        if matches!(self.mode, Mode::Quiet | Mode::QuietJson) {
            return;
        }
        let counts = Arc::new(Counts::default());
        let bar = (self.mode == Mode::Bars).then(|| bar(name, total, unit, &counts));
        if self.mode == Mode::Json {
            json_line(
                serde_json::json!({"level": "info", "event": "begin", "stage": name, "total": total, "unit": unit}),
            );
        }
        let mut stage = self.stage.lock().unwrap_or_else(|e| e.into_inner());
        *stage = Some(Stage {
            name,
            total,
            unit,
            counts,
            bar,
        });
    }

    fn advance(&self, steps: u64, files: u64, bytes: u64) {
        let stage = self.stage.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(stage) = stage.as_ref() {
            let c = &stage.counts;
            c.steps.fetch_add(steps, Ordering::Relaxed);
            c.files.fetch_add(files, Ordering::Relaxed);
            c.bytes.fetch_add(bytes, Ordering::Relaxed);
            // Files are counted one by one on the unpack's hot path: only a step moves the bar.
            if let Some(bar) = stage.bar.as_ref().filter(|_| steps > 0) {
                bar.set_position(c.steps.load(Ordering::Relaxed));
            }
        }
    }

    fn end(&self, name: &'static str, took: Duration) {
        let Some(stage) = self.stage.lock().unwrap_or_else(|e| e.into_inner()).take() else {
            return;
        };
        debug_assert_eq!(stage.name, name);
        if let Some(bar) = &stage.bar {
            bar.finish_and_clear();
        }
        let steps = stage.counts.steps.load(Ordering::Relaxed);
        let files = stage.counts.files.load(Ordering::Relaxed);
        let bytes = stage.counts.bytes.load(Ordering::Relaxed);
        match self.mode {
            Mode::Quiet | Mode::QuietJson => {}
            Mode::Json => json_line(serde_json::json!({
                "level": "info", "event": "end", "stage": name, "steps": steps, "total": stage.total,
                "unit": stage.unit, "files": files, "bytes": bytes, "seconds": took.as_secs_f64(),
            })),
            Mode::Lines | Mode::Bars => {
                let mut line = format!("{:>9} {:.2} s", name, took.as_secs_f64());
                if !stage.unit.is_empty() {
                    let unit = if steps == 1 {
                        stage.unit.trim_end_matches('s')
                    } else {
                        stage.unit
                    };
                    line.push_str(&format!(", {steps} {unit}"));
                }
                line.push_str(&read(files, bytes, took));
                eprintln!("{line}");
            }
        }
    }
}

/// A bar left on the screen by a stage an error cut short is cleared, so the error is the
/// last thing the terminal shows.
impl Drop for Reporter {
    fn drop(&mut self) {
        if let Some(stage) = self.stage.get_mut().unwrap_or_else(|e| e.into_inner()).take()
            && let Some(bar) = stage.bar
        {
            bar.finish_and_clear();
        }
    }
}

/// `, 8,183 files, 217.67 MiB (144.83 MiB/s)`: what a stage read (or sent) in `took`; the
/// parts it has none of are left out.
fn read(files: u64, bytes: u64, took: Duration) -> String {
    let mut said = String::new();
    if files > 0 {
        said.push_str(&format!(", {} files", HumanCount(files)));
    }
    if bytes > 0 {
        let seconds = took.as_secs_f64();
        let rate = if seconds > 0.0 {
            (bytes as f64 / seconds) as u64
        } else {
            0
        };
        said.push_str(&format!(", {} ({}/s)", HumanBytes(bytes), HumanBytes(rate)));
    }
    said
}

/// A bar over the stage's steps when their total is known, else a spinner with the steps so
/// far; either way with the files and bytes read and the throughput, redrawn ten times a second.
fn bar(name: &'static str, total: Option<u64>, unit: &'static str, counts: &Arc<Counts>) -> ProgressBar {
    let template = match (total, unit) {
        (Some(_), _) => "{prefix:>9} [{bar:24}] {pos}/{len} {msg}{read}",
        (None, "") => "{prefix:>9} {spinner} {elapsed}",
        (None, _) => "{prefix:>9} {spinner} {pos} {msg}{read}",
    };
    let counts = Arc::clone(counts);
    let style = ProgressStyle::with_template(template)
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ")
        .with_key("read", move |state: &ProgressState, out: &mut dyn std::fmt::Write| {
            let files = counts.files.load(Ordering::Relaxed);
            let bytes = counts.bytes.load(Ordering::Relaxed);
            if let Some(said) = read(files, bytes, state.elapsed()).strip_prefix(", ") {
                let _ = write!(out, " · {said}");
            }
        });
    let bar = ProgressBar::with_draw_target(total, ProgressDrawTarget::stderr_with_hz(10))
        .with_style(style)
        .with_prefix(name)
        .with_message(unit);
    bar.enable_steady_tick(Duration::from_millis(100));
    bar
}
