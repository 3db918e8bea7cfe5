//! One file's bytes, scanned as they stream past in chunks of any size, in bounded memory.
//!
//! The keyword automaton runs over every byte once. Each keyword hit opens a window reaching
//! the pattern's longest match both ways, and the pattern's regex runs on that window alone,
//! once the bytes it needs have arrived. The buffer keeps only what pending windows, and
//! windows that future hits may open, can still need; so memory is bounded by the longest
//! match (a private key: about 17 KiB), not by the file or its lines.

use super::rules::{COMPILED, PATTERNS, Prefilter, allowed};

/// How many leading bytes decide whether a file is binary: git's heuristic (a NUL byte in the
/// first 8000 bytes), rounded up.
pub(super) const HEAD: usize = 8192;
/// Bytes appended at a time: a caller's larger chunk is taken in pieces of this size.
const PIECE: usize = 64 << 10;
/// Overlapping windows of one pattern are merged up to this span, so a file full of keywords
/// costs one regex pass per span, not one per hit.
const MERGE_LIMIT: u64 = 64 << 10;
/// Context shown around a secret in its excerpt, at most, in bytes.
const CONTEXT_BEFORE: usize = 40;
const CONTEXT_AFTER: usize = 40;
/// Findings kept per file; further ones are counted.
pub(super) const MAX_FINDINGS: usize = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Fewer than HEAD bytes seen: not yet known.
    Undecided,
    Text,
    Binary,
}

struct Window {
    pattern: usize,
    start: u64,
    end: u64,
}

/// A match, before its excerpt is written (once all of the file's secrets are known).
pub(super) struct RawFinding {
    pub pattern: usize,
    /// 1-based; `None` in a binary file.
    pub line: Option<u64>,
    pub secret: (u64, u64),
    context_start: u64,
    context: Vec<u8>,
}

pub(super) struct FileScan {
    /// Which patterns apply to this file (path gates).
    enabled: Vec<bool>,
    mode: Mode,
    /// Bytes `[start, end)` of the file.
    buf: Vec<u8>,
    start: u64,
    end: u64,
    /// Newlines in `[0, start)`.
    lines_before: u64,
    /// The automaton has reported every hit ending at or before this offset.
    searched: u64,
    windows: Vec<Window>,
    /// Per pattern, where its last reported secret ends: overlapping matches from merged or
    /// neighbouring windows are one finding.
    reported_until: Vec<u64>,
    pub findings: Vec<RawFinding>,
    /// Findings past [`MAX_FINDINGS`].
    pub dropped: u64,
    largest_buffer: usize,
}

impl FileScan {
    pub fn new(path: &str) -> FileScan {
        FileScan {
            enabled: PATTERNS
                .iter()
                .map(|p| p.only_in.is_none_or(|gate| gate(path)))
                .collect(),
            mode: Mode::Undecided,
            buf: Vec::new(),
            start: 0,
            end: 0,
            lines_before: 0,
            searched: 0,
            windows: Vec::new(),
            reported_until: vec![0; PATTERNS.len()],
            findings: Vec::new(),
            dropped: 0,
            largest_buffer: 0,
        }
    }

    pub fn is_binary(&self) -> bool {
        self.mode == Mode::Binary
    }

    /// The most bytes this file's scan held at once.
    pub fn largest_buffer(&self) -> usize {
        self.largest_buffer
    }

    pub fn push(&mut self, bytes: &[u8]) {
        for piece in bytes.chunks(PIECE) {
            self.buf.extend_from_slice(piece);
            self.end += piece.len() as u64;
            self.largest_buffer = self.largest_buffer.max(self.buf.len());
            if self.mode == Mode::Undecided {
                if self.buf.len() < HEAD {
                    continue;
                }
                self.decide();
            }
            self.search();
            self.evaluate(false);
            self.discard();
        }
    }

    /// The file has ended: everything still pending is judged.
    pub fn finish(&mut self) {
        if self.mode == Mode::Undecided {
            self.decide();
        }
        self.search();
        self.evaluate(true);
    }

    fn decide(&mut self) {
        let head = &self.buf[..self.buf.len().min(HEAD)];
        self.mode = if memchr::memchr(0, head).is_some() {
            Mode::Binary
        } else {
            Mode::Text
        };
    }

    fn prefilter(&self) -> &'static Prefilter {
        match self.mode {
            Mode::Binary => &COMPILED.binary,
            _ => &COMPILED.text,
        }
    }

    fn search(&mut self) {
        let prefilter = self.prefilter();
        // A keyword may straddle the previous search's end.
        let from = self
            .searched
            .saturating_sub(prefilter.longest_keyword as u64 - 1)
            .max(self.start);
        let offset = (from - self.start) as usize;
        let mut hits = Vec::new();
        for hit in prefilter.automaton.find_overlapping_iter(&self.buf[offset..]) {
            let (at, end) = (from + hit.start() as u64, from + hit.end() as u64);
            if end <= self.searched {
                continue;
            }
            let found = &self.buf[offset + hit.start()..offset + hit.end()];
            for &(pattern, keyword) in &prefilter.targets[hit.pattern().as_usize()] {
                let case_ok = !prefilter.folds_case || PATTERNS[pattern].any_case || found == keyword.as_bytes();
                if case_ok && self.enabled[pattern] {
                    hits.push((pattern, at));
                }
            }
        }
        for (pattern, at) in hits {
            self.open_window(pattern, at);
        }
        self.searched = self.end;
    }

    fn open_window(&mut self, pattern: usize, at: u64) {
        // One byte beyond the longest match each way: a match that touches a window's edge
        // (where `^` and `$` would see an edge that is not the file's) is a cut one.
        let reach = COMPILED.reach[pattern] as u64 + 1;
        let start = at.saturating_sub(reach).max(self.start);
        // The excerpt's context after the secret must have arrived too, whatever the chunks.
        let end = at + reach + CONTEXT_AFTER as u64;
        if let Some(last) = self.windows.iter_mut().rev().find(|w| w.pattern == pattern)
            && start <= last.end
            && end - last.start <= MERGE_LIMIT
        {
            last.end = last.end.max(end);
            return;
        }
        self.windows.push(Window { pattern, start, end });
    }

    fn evaluate(&mut self, eof: bool) {
        let windows = std::mem::take(&mut self.windows);
        for window in windows {
            if eof || window.end <= self.end {
                self.run(&window, eof);
            } else {
                self.windows.push(window);
            }
        }
    }

    fn run(&mut self, window: &Window, eof: bool) {
        let regex = &COMPILED.regexes[window.pattern];
        let pattern = &PATTERNS[window.pattern];
        let from = (window.start - self.start) as usize;
        let to = (window.end.min(self.end) - self.start) as usize;
        let reaches_eof = eof && window.end >= self.end;
        // The haystack begins at the buffer's start, so that `^` and word boundaries at the
        // window's start see the bytes before it.
        let haystack = &self.buf[..to];
        let mut at = from;
        let mut accepted = Vec::new();
        while at <= to {
            let Some(captures) = regex.captures_at(haystack, at) else {
                break;
            };
            let whole = captures.get(0).expect("group 0 is the whole match");
            at = if whole.is_empty() { whole.end() + 1 } else { whole.end() };
            let cut_before = whole.start() == 0 && self.start > 0;
            let cut_after = whole.end() == to && !reaches_eof;
            let secret = captures.name("secret").unwrap_or(whole);
            if cut_before || cut_after || allowed(whole.as_bytes()) || !(pattern.accept)(&captures) {
                continue;
            }
            // Without the whitespace at their edges: a newline before a token is a boundary,
            // not part of the match's line; a PEM body ends with one.
            let trim = |range: std::ops::Range<usize>| {
                let bytes = &haystack[range.clone()];
                let lead = bytes.iter().take_while(|b| b.is_ascii_whitespace()).count();
                let trail = bytes[lead..]
                    .iter()
                    .rev()
                    .take_while(|b| b.is_ascii_whitespace())
                    .count();
                (range.start + lead, range.end - trail)
            };
            accepted.push((trim(whole.range()), trim(secret.range())));
        }
        for (whole, (secret_start, secret_end)) in accepted {
            let secret = (self.start + secret_start as u64, self.start + secret_end as u64);
            if secret.0 < self.reported_until[window.pattern] {
                continue;
            }
            self.reported_until[window.pattern] = secret.1;
            if self.findings.len() >= MAX_FINDINGS {
                self.dropped += 1;
                continue;
            }
            self.record(window.pattern, whole, (secret_start, secret_end));
        }
    }

    fn record(&mut self, pattern: usize, whole: (usize, usize), secret: (usize, usize)) {
        let line = (self.mode != Mode::Binary)
            .then(|| self.lines_before + memchr::memchr_iter(b'\n', &self.buf[..whole.0]).count() as u64 + 1);
        // The excerpt: from the start of the match's line (a PEM key's BEGIN line) or a little
        // before the secret, to a little after it, without passing the end of the match's last
        // line (a PEM key's END line).
        let line_start = memchr::memrchr(b'\n', &self.buf[..whole.0]).map_or(0, |i| i + 1);
        let mut context_start = line_start.max(secret.0.saturating_sub(CONTEXT_BEFORE));
        let last = whole.1.max(secret.1);
        let line_end = memchr::memchr(b'\n', &self.buf[last..]).map_or(self.buf.len(), |i| last + i);
        let mut context_end = (secret.1 + CONTEXT_AFTER).min(line_end);
        if self.mode == Mode::Binary {
            // Only the printable run around the match: the bytes beyond are the program's.
            let text = |b: &u8| b.is_ascii_graphic() || b.is_ascii_whitespace();
            let before = &self.buf[context_start..secret.0];
            context_start += before.iter().rposition(|b| !text(b)).map_or(0, |i| i + 1);
            let after = &self.buf[secret.1..context_end];
            context_end = secret.1 + after.iter().position(|b| !text(b)).unwrap_or(after.len());
        }
        self.findings.push(RawFinding {
            pattern,
            line,
            secret: (self.start + secret.0 as u64, self.start + secret.1 as u64),
            context_start: self.start + context_start as u64,
            context: self.buf[context_start..context_end].to_vec(),
        });
    }

    /// Drops the bytes no pending or future window can need.
    fn discard(&mut self) {
        let longest = COMPILED.reach.iter().max().copied().unwrap_or(0) as u64;
        let future = self
            .end
            .saturating_sub(self.prefilter().longest_keyword as u64 + longest + 1);
        let keep_from = self
            .windows
            .iter()
            .map(|w| w.start)
            .fold(future, u64::min)
            .saturating_sub(CONTEXT_BEFORE as u64)
            .max(self.start);
        let drop = (keep_from - self.start) as usize;
        // In small chunks, moving the kept bytes down after each would cost more than the scan.
        if drop < PIECE / 4 {
            return;
        }
        if self.mode == Mode::Text {
            self.lines_before += memchr::memchr_iter(b'\n', &self.buf[..drop]).count() as u64;
        }
        self.buf.drain(..drop);
        self.start = keep_from;
    }
}

/// The excerpt of `finding`: its context with its own secret, and any other secret of the same
/// file that reaches into it, replaced by `*****`; control characters and line breaks shown as
/// single spaces.
pub(super) fn excerpt(finding: &RawFinding, all: &[RawFinding]) -> String {
    let (from, to) = (
        finding.context_start,
        finding.context_start + finding.context.len() as u64,
    );
    let mut masks: Vec<(u64, u64)> = all
        .iter()
        .map(|f| f.secret)
        .filter(|&(s, e)| s < to && e > from)
        .map(|(s, e)| (s.max(from), e.min(to)))
        .collect();
    masks.sort_unstable();
    let mut out: Vec<u8> = Vec::with_capacity(finding.context.len());
    let mut at = from;
    for (s, e) in masks {
        if e <= at {
            continue;
        }
        if s > at {
            out.extend_from_slice(&finding.context[(at - from) as usize..(s - from) as usize]);
        }
        out.extend_from_slice(b"*****");
        at = e.max(at);
    }
    out.extend_from_slice(&finding.context[(at - from) as usize..]);
    let text = String::from_utf8_lossy(&out);
    let mut shown = String::with_capacity(text.len());
    for c in text.chars() {
        let c = if c.is_control() { ' ' } else { c };
        if !(c == ' ' && shown.ends_with(' ')) {
            shown.push(c);
        }
    }
    shown.trim().to_owned()
}
