//! How far a long stage has got, told to whoever shows it. The library never draws anything:
//! the CLI decides whether progress is a bar on a terminal, a line per stage in a CI log, JSON,
//! or nothing. Nothing of it reaches an output file, so outputs stay reproducible.

use std::time::{Duration, Instant};

/// One stage runs at a time; within it, steps are counted in one unit (images unpacked) and
/// the files read on the way are counted too.
pub trait Progress: Sync {
    /// A stage begins, with `total` steps of `unit` when they are known.
    fn begin(&self, stage: &'static str, total: Option<u64>, unit: &'static str);
    /// `steps` more steps done, and `files` more files of `bytes` read on the way.
    fn advance(&self, steps: u64, files: u64, bytes: u64);
    /// The stage that began last has ended, `took` after it began.
    fn end(&self, stage: &'static str, took: Duration);
}

/// Shows nothing: for callers that did not ask for progress.
pub struct Silent;

impl Progress for Silent {
    fn begin(&self, _: &'static str, _: Option<u64>, _: &'static str) {}
    fn advance(&self, _: u64, _: u64, _: u64) {}
    fn end(&self, _: &'static str, _: Duration) {}
}

/// The stages of a run, one after another: each begins as the one before it ends. Keeps each
/// stage's wall time (a stage met twice adds up: the policy, loaded then judged), for
/// `--timings`, and tells `progress` of each.
pub struct Stages<'a> {
    progress: &'a dyn Progress,
    current: Option<(&'static str, Instant)>,
    took: Vec<(&'static str, Duration)>,
}

impl<'a> Stages<'a> {
    pub fn new(progress: &'a dyn Progress) -> Self {
        Stages {
            progress,
            current: None,
            took: Vec::new(),
        }
    }

    /// Ends the stage under way, if any, and begins `stage` ([`Progress::begin`]).
    pub fn begin(&mut self, stage: &'static str, total: Option<u64>, unit: &'static str) {
        self.end();
        self.progress.begin(stage, total, unit);
        self.current = Some((stage, Instant::now()));
    }

    fn end(&mut self) {
        if let Some((stage, began)) = self.current.take() {
            let took = began.elapsed();
            self.progress.end(stage, took);
            match self.took.iter_mut().find(|(s, _)| *s == stage) {
                Some((_, total)) => *total += took,
                None => self.took.push((stage, took)),
            }
        }
    }

    /// Ends the last stage: each stage's wall time, in the order the stages first ran.
    pub fn finish(mut self) -> Vec<(&'static str, Duration)> {
        self.end();
        std::mem::take(&mut self.took)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    #[derive(Default)]
    struct Told(Mutex<Vec<String>>);

    impl Progress for Told {
        fn begin(&self, stage: &'static str, total: Option<u64>, unit: &'static str) {
            self.0.lock().unwrap().push(format!("begin {stage} {total:?} {unit}"));
        }
        fn advance(&self, steps: u64, files: u64, bytes: u64) {
            self.0.lock().unwrap().push(format!("advance {steps} {files} {bytes}"));
        }
        fn end(&self, stage: &'static str, _: Duration) {
            self.0.lock().unwrap().push(format!("end {stage}"));
        }
    }

    #[test]
    fn each_stage_ends_before_the_next_begins_and_a_stage_met_twice_adds_up() {
        let told = Told::default();
        let mut stages = Stages::new(&told);
        stages.begin("policy", None, "");
        stages.begin("unpack", Some(2), "images");
        told.advance(1, 3, 100);
        stages.begin("policy", None, "");
        let took = stages.finish();
        assert_eq!(
            told.0.into_inner().unwrap(),
            [
                "begin policy None ",
                "end policy",
                "begin unpack Some(2) images",
                "advance 1 3 100",
                "end unpack",
                "begin policy None ",
                "end policy"
            ]
        );
        assert_eq!(took.iter().map(|(s, _)| *s).collect::<Vec<_>>(), ["policy", "unpack"]);
    }
}
