//! The policy decision as JUnit XML, which CI servers render as a test report: one test suite
//! per component, one test case per rule on it, a failure for a denial (every result of the
//! rule listed in it), a skipped case for an accepted exception (with its reason, owner and
//! expiry), warnings as the case's output. Exceptions' own results (expired, unused) are a
//! suite of their own. No timestamps: the same decision gives the same bytes.

use std::fmt::Write as _;

use crate::policy::decision::{Case, Decision, Outcome, Status};

/// XML 1.0 text: the five markup characters escaped, and the control characters XML cannot
/// carry at all replaced.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

fn line(r: &Outcome) -> String {
    let mut text = format!("[{}] {}", r.severity, r.msg);
    if let Some(path) = &r.path {
        text.push_str(&format!(" ({path})"));
    }
    if let Some(e) = &r.exception {
        text.push_str(&format!(
            " — excepted: {} (owner {}, until {})",
            e.reason, e.owner, e.expires
        ));
    }
    text
}

fn lines(results: &[&Outcome]) -> String {
    results.iter().map(|r| line(r)).collect::<Vec<_>>().join("\n")
}

fn case(out: &mut String, classname: &str, name: &str, status: Status, results: &[&Outcome]) {
    let _ = write!(
        out,
        "    <testcase classname=\"{}\" name=\"{}\"",
        escape(classname),
        escape(name)
    );
    let denied: Vec<&Outcome> = results.iter().copied().filter(|r| r.status == Status::Denied).collect();
    match status {
        Status::Passed => out.push_str("/>\n"),
        Status::Denied => {
            let first = denied.first().map(|r| r.msg.as_str()).unwrap_or_default();
            let message = match denied.len() {
                1 => first.to_owned(),
                n => format!("{first} (and {} more)", n - 1),
            };
            let _ = write!(
                out,
                ">\n      <failure message=\"{}\" type=\"{}\">{}</failure>\n    </testcase>\n",
                escape(&message),
                escape(&denied.first().map(|r| r.id.clone()).unwrap_or_default()),
                escape(&lines(results))
            );
        }
        Status::Excepted => {
            let reasons: Vec<String> = results
                .iter()
                .filter_map(|r| r.exception.as_ref())
                .map(|e| format!("excepted: {} (owner {}, until {})", e.reason, e.owner, e.expires))
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .collect();
            let _ = write!(
                out,
                ">\n      <skipped message=\"{}\"/>\n      <system-out>{}</system-out>\n    </testcase>\n",
                escape(&reasons.join("; ")),
                escape(&lines(results))
            );
        }
        Status::Warned => {
            let _ = write!(
                out,
                ">\n      <system-out>{}</system-out>\n    </testcase>\n",
                escape(&lines(results))
            );
        }
    }
}

fn counts<'a>(statuses: impl Iterator<Item = &'a Status>) -> (usize, usize, usize) {
    let (mut tests, mut failures, mut skipped) = (0, 0, 0);
    for s in statuses {
        tests += 1;
        failures += usize::from(*s == Status::Denied);
        skipped += usize::from(*s == Status::Excepted);
    }
    (tests, failures, skipped)
}

/// The JUnit XML report of `decision`.
pub fn write(decision: &Decision) -> String {
    let cases = decision.cases();
    let mut suites: Vec<(&str, Vec<&Case>)> = Vec::new();
    for c in &cases {
        match suites.last_mut() {
            Some((name, list)) if *name == c.component => list.push(c),
            _ => suites.push((c.component, vec![c])),
        }
    }
    let own: Vec<&Outcome> = decision.results.iter().filter(|r| r.rule == "exceptions").collect();
    let all = cases.iter().map(|c| &c.status).chain(own.iter().map(|r| &r.status));
    let (tests, failures, skipped) = counts(all);
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"sealkit check {}\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\" skipped=\"{skipped}\">",
        escape(&decision.subject)
    );
    let suite = |out: &mut String, name: &str, statuses: Vec<&Status>, body: String| {
        let (tests, failures, skipped) = counts(statuses.into_iter());
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\" skipped=\"{skipped}\">",
            escape(name)
        );
        out.push_str(&body);
        out.push_str("  </testsuite>\n");
    };
    for (component, list) in &suites {
        let mut body = String::new();
        for c in list {
            case(
                &mut body,
                component,
                &format!("{}: {}", c.rule.id, c.rule.title),
                c.status,
                &c.results,
            );
        }
        suite(&mut out, component, list.iter().map(|c| &c.status).collect(), body);
    }
    if !own.is_empty() {
        let mut body = String::new();
        for r in &own {
            let name = match &r.exception {
                Some(e) => format!("{}: {} ({})", r.id, e.id, e.at),
                None => r.id.clone(),
            };
            case(&mut body, "exceptions", &name, r.status, &[*r]);
        }
        suite(&mut out, "exceptions", own.iter().map(|r| &r.status).collect(), body);
    }
    out.push_str("</testsuites>\n");
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn text_is_escaped_for_xml() {
        assert_eq!(super::escape("a<b & \"c\"\u{1}"), "a&lt;b &amp; &quot;c&quot;\u{FFFD}");
    }
}
