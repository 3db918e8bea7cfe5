//! report.html: what a release engineer reads, in one self-contained file made from the same
//! two documents every other report is made from, the evidence and the policy decision.
//!
//! Nothing leaves the page: the styles, the script and the charts (SVG drawn here) are inline,
//! and the page's Content-Security-Policy admits only that script and that style, by their
//! hashes, so a fetch that crept in would be refused by the browser rather than sent. Every
//! string from the documents is escaped (maud escapes whatever it splices in): file names and
//! package names come from the images, which are the untrusted input. Nothing comes from the
//! clock: the same documents give the same bytes.

use std::collections::BTreeMap;

use base64::Engine as _;
use maud::{DOCTYPE, Markup, PreEscaped, html};
use serde_json::Value;
use sha2::{Digest as _, Sha256};

use super::summary::{ComponentSummary, HARDENING_CHECKS, Summary};

crate::error_codes! {
    BadEvidence = "report-bad-evidence": "The evidence given to `sealkit report` is not a sealkit evidence document (sealkit.dev/evidence/v1, as `sealkit scan --format json` and the gate's evidence.json).",
    BadDecision = "report-bad-decision": "The decision given to `sealkit report` is not a sealkit policy decision (sealkit.dev/policy-decision/v1, the gate's report.json), or it judged other components than the evidence describes.",
}

const EVIDENCE_SCHEMA: &str = "sealkit.dev/evidence/v1";

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error(
        "{what} is not a sealkit evidence document: {why}\n  hint: give the evidence.json of a gate's output folder, or `sealkit scan FILE.yml --format json`'s output"
    )]
    BadEvidence { what: String, why: String },
    #[error(
        "{what} is not a policy decision about this evidence: {why}\n  hint: give the report.json written beside the evidence.json (or none, for a report of the evidence alone)"
    )]
    BadDecision { what: String, why: String },
}

impl ReportError {
    pub fn code(&self) -> Code {
        match self {
            ReportError::BadEvidence { .. } => Code::BadEvidence,
            ReportError::BadDecision { .. } => Code::BadDecision,
        }
    }
}

/// The roles in the order the system meets them: what boots first is drawn first.
const BOOT_ORDER: [&str; 8] = [
    "kernel",
    "init",
    "volume",
    "onboot",
    "service",
    "onshutdown",
    "image",
    "folder",
];
const SEVERITIES: [&str; 5] = ["critical", "high", "medium", "low", "info"];
/// The statuses a finding can have, worst first; `passed` results are not findings.
const FINDING_STATUSES: [&str; 3] = ["denied", "warned", "excepted"];

const STYLE: &str = include_str!("html/report.css");
const SCRIPT: &str = include_str!("html/report.js");

/// Checks that `evidence` (and `decision`, when given) are what a report is made from; `what`
/// names them in errors (their file names).
pub fn check_inputs(
    evidence: &Value,
    evidence_name: &str,
    decision: Option<(&Value, &str)>,
) -> Result<(), ReportError> {
    if evidence["schema"] != EVIDENCE_SCHEMA {
        return Err(ReportError::BadEvidence {
            what: evidence_name.to_owned(),
            why: format!("its schema is {}, not {EVIDENCE_SCHEMA}", evidence["schema"]),
        });
    }
    if !evidence["components"].is_array() {
        return Err(ReportError::BadEvidence {
            what: evidence_name.to_owned(),
            why: "it lists no components".to_owned(),
        });
    }
    let Some((decision, decision_name)) = decision else {
        return Ok(());
    };
    let bad = |why: String| ReportError::BadDecision {
        what: decision_name.to_owned(),
        why,
    };
    if decision["schema"] != crate::policy::decision::SCHEMA {
        return Err(bad(format!(
            "its schema is {}, not {}",
            decision["schema"],
            crate::policy::decision::SCHEMA
        )));
    }
    let judged: Vec<&str> = strings(&decision["components"]).collect();
    let described: Vec<&str> = evidence["components"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| text(&c["name"]))
        .collect();
    if judged != described {
        return Err(bad(format!(
            "it judged the components [{}], and {evidence_name} describes [{}]",
            judged.join(", "),
            described.join(", ")
        )));
    }
    if !matches!(decision["verdict"].as_str(), Some("pass" | "deny")) || !decision["results"].is_array() {
        return Err(bad("it has no verdict and results".to_owned()));
    }
    Ok(())
}

/// The report of `evidence`, judged by `decision` (or not judged, when there is none). The
/// inputs are the ones [`check_inputs`] accepted.
pub fn write(evidence: &Value, decision: Option<&Value>) -> String {
    let summary = Summary::of_evidence(evidence);
    let findings = findings(decision);
    let subject = decision
        .and_then(|d| d["subject"].as_str())
        .unwrap_or_else(|| text(&evidence["subject"]["name"]));
    let style = format!("\n{STYLE}");
    let script = format!("\n{SCRIPT}");
    let csp = format!(
        "default-src 'none'; style-src '{}'; script-src '{}'; img-src data:; base-uri 'none'; form-action 'none'",
        csp_hash(&style),
        csp_hash(&script)
    );
    let page = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta http-equiv="Content-Security-Policy" content=(csp);
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { "sealkit report: " (subject) }
                style { (PreEscaped(&style)) }
            }
            body {
                (verdict(subject, evidence, decision))
                (filters(&summary, decision.is_some()))
                main {
                    (picture(evidence, &summary, &findings))
                    @if let Some(decision) = decision {
                        (charts(decision, &findings))
                        (findings_table(&findings))
                        (exceptions(decision, &findings))
                    }
                    (kernel(evidence))
                    @for (c, s) in components(evidence).zip(&summary.components) {
                        (component(c, s, evidence, &findings))
                    }
                }
                footer {
                    "Made by sealkit " (text(&evidence["tool"]["version"]))
                    " from the evidence (" (text(&evidence["schema"])) ")"
                    @if let Some(d) = decision {
                        " and the policy decision (" (text(&d["schema"])) "; policy set "
                        code { (text(&d["basis"]["policy_digest"])) } ")"
                    }
                    "."
                }
                script { (PreEscaped(&script)) }
            }
        }
    };
    let mut out = page.into_string();
    out.push('\n');
    out
}

/// A CSP source for an inline element's text: its SHA-256, as browsers hash it.
fn csp_hash(text: &str) -> String {
    format!(
        "sha256-{}",
        base64::engine::general_purpose::STANDARD.encode(Sha256::digest(text.as_bytes()))
    )
}

fn text(v: &Value) -> &str {
    v.as_str().unwrap_or_default()
}

fn strings(v: &Value) -> impl Iterator<Item = &str> {
    v.as_array().into_iter().flatten().filter_map(Value::as_str)
}

fn components(evidence: &Value) -> impl Iterator<Item = &Value> {
    evidence["components"].as_array().into_iter().flatten()
}

/// The decision's results that are findings (not passes), worst first: by severity, then by
/// status, then as the decision lists them.
fn findings(decision: Option<&Value>) -> Vec<&Value> {
    let rank = |list: &[&str], v: &str| list.iter().position(|s| *s == v).unwrap_or(list.len());
    let mut found: Vec<&Value> = decision
        .map(|d| &d["results"])
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|r| FINDING_STATUSES.contains(&text(&r["status"])))
        .collect();
    found.sort_by_key(|r| {
        (
            rank(&SEVERITIES, &severity(r)),
            rank(&FINDING_STATUSES, text(&r["status"])),
        )
    });
    found
}

/// A result's severity as the page names it: the decision's `CRITICAL` is `critical`.
fn severity(result: &Value) -> String {
    text(&result["severity"]).to_ascii_lowercase()
}

fn verdict(subject: &str, evidence: &Value, decision: Option<&Value>) -> Markup {
    let (class, word) = match decision.map(|d| text(&d["verdict"])) {
        Some("pass") => ("pass", "PASS"),
        Some(_) => ("deny", "DENIED"),
        None => ("unjudged", "NOT JUDGED"),
    };
    let count = |name: &str| decision.map_or(0, |d| d["counts"][name].as_u64().unwrap_or(0));
    html! {
        header id="verdict" class=(class) {
            p class="word" { (word) }
            h1 { (subject) }
            @match decision {
                Some(d) => p class="counts" {
                    span class="denied" { (count("denied")) " denied" } " · "
                    span class="warned" { (count("warned")) " warned" } " · "
                    span class="excepted" { (count("excepted")) " excepted" } " · "
                    span class="passed" { (count("passed")) " passed" }
                    @if let Some(day) = d["basis"]["evaluated_on"].as_str() {
                        " · exceptions judged on " (day)
                    }
                },
                None => p class="counts" {
                    "No policy decision was given: this is the evidence alone. "
                    "Give the gate's report.json (" code { "sealkit report evidence.json --decision report.json" } ") to see the verdict."
                },
            }
            p class="subject" {
                (text(&evidence["subject"]["kind"])) " "
                (text(&evidence["subject"]["name"]))
                @if let Some(platform) = evidence["subject"]["platform"].as_str() { " for " (platform) }
            }
        }
    }
}

fn filters(summary: &Summary, judged: bool) -> Markup {
    html! {
        nav id="filters" {
            input type="search" id="filter" placeholder="Filter every table: a path, a package, a rule…" aria-label="Filter";
            select id="component" aria-label="Component" {
                option value="" { "every component" }
                @for c in &summary.components {
                    option value=(c.name) { (c.role) " " (c.name) }
                }
            }
            @if judged {
                fieldset {
                    legend { "Status" }
                    @for s in FINDING_STATUSES {
                        label { input type="checkbox" data-status=(s) checked; " " (s) }
                    }
                }
            }
            fieldset {
                legend { "Severity" }
                @for s in SEVERITIES {
                    label { input type="checkbox" data-severity=(s) checked; " " (s) }
                }
            }
        }
    }
}

/// The image as the system runs it: the components in boot order, each with the privileges
/// it holds and the findings about it.
fn picture(evidence: &Value, summary: &Summary, findings: &[&Value]) -> Markup {
    let mut stages: BTreeMap<usize, Vec<(&Value, &ComponentSummary)>> = BTreeMap::new();
    for (c, s) in components(evidence).zip(&summary.components) {
        let at = BOOT_ORDER.iter().position(|r| *r == s.role).unwrap_or(BOOT_ORDER.len());
        stages.entry(at).or_default().push((c, s));
    }
    html! {
        section id="image" {
            h2 { "The image, in boot order" }
            ol class="boot" {
                @for (at, members) in &stages {
                    li class="stage" {
                        h3 { (BOOT_ORDER.get(*at).copied().unwrap_or("other")) }
                        @for (c, s) in members {
                            @let denied = findings.iter().filter(|r| text(&r["component"]) == s.name && r["status"] == "denied").count();
                            div class={ "card" @if denied > 0 { " has-denied" } } data-component=(s.name) {
                                a href={ "#component-" (anchor(&s.name)) } { (s.name) }
                                p class="facts" {
                                    (s.packages) " packages · " (s.binaries) " binaries"
                                    @if let Some(p) = s.hardening.percent() { " · " (p) "% hardened" }
                                }
                                p class="badges" { @for (class, badge) in privilege_badges(&c["privileges"]) { span class={ "badge " (class) } { (badge) } } }
                                @if denied > 0 { p class="denied" { (denied) " denied" } }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// What a component may do, in a few words each, the dangerous ones first; nothing for the
/// kernel and init, which are the system itself.
fn privilege_badges(p: &Value) -> Vec<(&'static str, String)> {
    if !p.is_object() {
        return vec![("system", "the system itself".to_owned())];
    }
    let mut badges = Vec::new();
    let yes = |key: &str| p[key].as_bool() == Some(true);
    if yes("all_capabilities") {
        badges.push(("danger", "all capabilities".to_owned()));
    } else {
        let count = p["capabilities"].as_array().map_or(0, Vec::len);
        let equivalent = p["root_equivalent"].as_array().map_or(0, Vec::len);
        let class = if equivalent > 0 {
            "danger"
        } else if count > 0 {
            "warn"
        } else {
            "ok"
        };
        badges.push((
            class,
            format!("{count} capabilit{}", if count == 1 { "y" } else { "ies" }),
        ));
    }
    if yes("all_devices") {
        badges.push(("danger", "all devices".to_owned()));
    }
    for ns in strings(&p["host_namespaces"]) {
        badges.push(("warn", format!("host {ns}")));
    }
    let writable_sensitive = p["binds"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|b| b["writable"] == true && b["sensitive"] == true)
        .count();
    if writable_sensitive > 0 {
        badges.push((
            "danger",
            format!("writes {writable_sensitive} host path{}", plural(writable_sensitive)),
        ));
    }
    if yes("runs_as_root") {
        badges.push(("warn", "root".to_owned()));
    }
    if p["readonly_rootfs"] == false {
        badges.push(("warn", "writable root".to_owned()));
    }
    badges
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn anchor(name: &str) -> String {
    name.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect()
}

/// Findings by severity and by component, as bars split by status.
fn charts(decision: &Value, findings: &[&Value]) -> Markup {
    let tally = |keep: &dyn Fn(&Value) -> bool| -> [usize; 3] {
        FINDING_STATUSES.map(|s| findings.iter().filter(|r| r["status"] == s && keep(r)).count())
    };
    let by_severity: Vec<(String, [usize; 3])> = SEVERITIES
        .iter()
        .map(|s| ((*s).to_owned(), tally(&|r| severity(r) == *s)))
        .collect();
    // The evidence's components in its order, then what else results are about (the files
    // section), then results about no component (an exception that expired).
    let mut names: Vec<&str> = strings(&decision["components"]).collect();
    let others: std::collections::BTreeSet<&str> = findings
        .iter()
        .filter_map(|r| r["component"].as_str())
        .filter(|c| !names.contains(c))
        .collect();
    names.extend(others);
    let mut by_component: Vec<(String, [usize; 3])> = names
        .into_iter()
        .map(|c| (c.to_owned(), tally(&|r| r["component"] == c)))
        .collect();
    let unplaced = tally(&|r| !r["component"].is_string());
    if unplaced.iter().any(|n| *n > 0) {
        by_component.push(("(the exceptions file)".to_owned(), unplaced));
    }
    html! {
        section id="charts" {
            h2 { "Findings" }
            div class="charts" {
                figure { figcaption { "By severity" } (bar_chart(&by_severity)) }
                figure { figcaption { "By component" } (bar_chart(&by_component)) }
            }
            p class="legend" {
                @for s in FINDING_STATUSES { span class={ "key " (s) } {} " " (s) " " }
            }
        }
    }
}

/// Horizontal bars, one per row, each split into denied, warned and excepted.
fn bar_chart(rows: &[(String, [usize; 3])]) -> Markup {
    const LABEL: usize = 190;
    const BAR: usize = 330;
    const ROW: usize = 24;
    let most = rows
        .iter()
        .map(|(_, n)| n.iter().sum::<usize>())
        .max()
        .unwrap_or(0)
        .max(1);
    let height = rows.len() * ROW + 4;
    let width = LABEL + BAR + 50;
    html! {
        svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox={ "0 0 " (width) " " (height) } width=(width) height=(height) {
            @for (i, (label, counts)) in rows.iter().enumerate() {
                @let y = i * ROW + 2;
                @let short: String = if label.chars().count() > 28 { label.chars().take(27).chain(['…']).collect() } else { label.clone() };
                g {
                    title { (label) ": " (counts[0]) " denied, " (counts[1]) " warned, " (counts[2]) " excepted" }
                    text x=(LABEL - 8) y=(y + 16) text-anchor="end" { (short) }
                    @let segments = segments(counts, most, BAR);
                    @for (status, x, w) in &segments {
                        rect class=(status) x=(LABEL + x) y=(y + 3) width=(w) height=(ROW - 6) {}
                    }
                    @let end = segments.last().map_or(0, |(_, x, w)| x + w);
                    text x=(LABEL + end + 6) y=(y + 16) { (counts.iter().sum::<usize>()) }
                }
            }
        }
    }
}

/// Where each status's part of a bar starts and how wide it is, for a bar of `width` at most:
/// no part that has findings is drawn thinner than 2 units, so one finding among hundreds shows.
fn segments(counts: &[usize; 3], most: usize, width: usize) -> Vec<(&'static str, usize, usize)> {
    let mut x = 0;
    let mut drawn = Vec::new();
    for (status, n) in FINDING_STATUSES.iter().zip(counts) {
        if *n > 0 {
            let w = (n * width / most).max(2);
            drawn.push((*status, x, w));
            x += w;
        }
    }
    drawn
}

/// A table the filter bar filters, under the line that says how many of its rows are shown.
fn filterable(class: &str, headers: &[&str], rows: Markup) -> Markup {
    html! {
        p class="shown" {}
        table class={ "filterable" @if !class.is_empty() { " " (class) } } {
            thead { tr { @for h in headers { th { (h) } } } }
            tbody { (rows) }
        }
    }
}

fn findings_table(findings: &[&Value]) -> Markup {
    html! {
        section id="findings" {
            h2 { "Findings by severity" }
            @if findings.is_empty() {
                p { "No rule denied, warned or was excepted." }
            } @else {
                (filterable("", &["Severity", "Status", "Rule", "Component", "Where", "What", "Fix", "Exception"], html! {
                    @for r in findings {
                        tr data-status=(text(&r["status"])) data-severity=(severity(r)) data-component=(text(&r["component"])) {
                            td { span class={ "sev " (severity(r)) } { (severity(r)) } }
                            td class=(text(&r["status"])) { (text(&r["status"])) }
                            td { code class="rule" { (text(&r["id"])) } }
                            td { (text(&r["component"])) }
                            td {
                                @if let Some(p) = r["path"].as_str() { code { (p) } }
                                @if let Some(v) = r["vulnerability"].as_str() { " " (v) }
                            }
                            td { (text(&r["msg"])) }
                            td { (text(&r["remediation"])) }
                            td {
                                @if let Some(e) = r["exception"].as_object() {
                                    (e.get("owner").and_then(Value::as_str).unwrap_or("")) ", until "
                                    (e.get("expires").and_then(Value::as_str).unwrap_or("")) ": "
                                    (e.get("reason").and_then(Value::as_str).unwrap_or(""))
                                }
                            }
                        }
                    }
                }))
            }
        }
    }
}

fn exceptions(decision: &Value, findings: &[&Value]) -> Markup {
    let list = decision["exceptions"].as_array().map(Vec::as_slice).unwrap_or_default();
    let used = |e: &Value| {
        findings
            .iter()
            .filter(|r| r["status"] == "excepted" && r["exception"]["at"] == e["at"])
            .count()
    };
    html! {
        section id="exceptions" {
            h2 { "Exceptions in force" }
            @if list.is_empty() {
                p { "None: no finding was accepted." }
            } @else {
                (filterable("", &["Rule", "Component", "Path or vulnerability", "Owner", "Expires", "Reason", "Accepts", "Written at"], html! {
                    @for e in list {
                        tr data-component=(text(&e["component"])) {
                            td { code { (text(&e["id"])) } }
                            td { (e["component"].as_str().unwrap_or("any")) }
                            td { (text(&e["path"])) (text(&e["vulnerability"])) }
                            td { (text(&e["owner"])) }
                            td { (text(&e["expires"])) }
                            td { (text(&e["reason"])) }
                            td { (used(e)) " finding" (plural(used(e))) }
                            td { code { (text(&e["at"])) } }
                        }
                    }
                }))
            }
        }
    }
}

fn kernel(evidence: &Value) -> Markup {
    let k = &evidence["kernel"];
    html! {
        @if k.is_object() {
            section id="kernel" {
                h2 { "Kernel" }
                dl {
                    dt { "Image" } dd { code { (text(&k["image"])) } }
                    dt { "Command line" } dd { code { (text(&k["cmdline"])) } }
                    @if k["config"].is_object() {
                        dt { "Configuration" }
                        dd {
                            (text(&k["config"]["version"])) " " (text(&k["config"]["arch"]))
                            ", read from " code { (text(&k["config"]["source"])) }
                        }
                    }
                    @for unread in k["config_unread"].as_array().into_iter().flatten() {
                        dt { "Configuration unread" }
                        dd { code { (text(&unread["source"])) } ": " (text(&unread["reason"])) }
                    }
                }
            }
        }
    }
}

fn component(c: &Value, s: &ComponentSummary, evidence: &Value, findings: &[&Value]) -> Markup {
    let binaries: Vec<&Value> = c["binaries"].as_array().into_iter().flatten().collect();
    let packages = c["packages"].as_array().map(Vec::as_slice).unwrap_or_default();
    let vulnerabilities: Vec<&Value> = evidence["vulnerabilities"]["components"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|v| v["name"] == s.name)
        .flat_map(|v| v["matches"].as_array().into_iter().flatten())
        .collect();
    let denied = findings
        .iter()
        .filter(|r| r["component"] == s.name.as_str() && r["status"] == "denied")
        .count();
    html! {
        section class="component" id={ "component-" (anchor(&s.name)) } data-component=(s.name) {
            h2 { span class="role" { (s.role) } " " (s.name) }
            p class="facts" {
                code { (text(&c["image"]["reference"])) }
                @if let Some(m) = c["image"]["manifest"].as_str() { " " code class="digest" { (m) } }
                @if let Some(d) = c["distro"]["pretty_name"].as_str() { " · " (d) }
                " · " (s.packages) " packages · " (s.binaries) " binaries"
                @if let Some(p) = s.hardening.percent() { " · " (p) "% of hardening checks passed" }
                @if denied > 0 { " · " span class="denied" { (denied) " denied" } }
            }
            @if c["privileges"].is_object() { (privileges(&c["privileges"])) }
            (hardening_matrix(&binaries))
            (packages_table(packages))
            @if !vulnerabilities.is_empty() { (vulnerabilities_table(&vulnerabilities)) }
            (files(c))
        }
    }
}

fn privileges(p: &Value) -> Markup {
    let list = |v: &Value| strings(v).collect::<Vec<_>>().join(", ");
    let yes_no = |v: &Value| match v.as_bool() {
        Some(true) => "yes",
        Some(false) => "no",
        None => "not said",
    };
    html! {
        details class="privileges" open {
            summary { "Privileges" }
            dl {
                dt { "Capabilities" }
                dd {
                    @if p["all_capabilities"] == true { strong { "all" } } @else { (list(&p["capabilities"])) }
                }
                @for r in p["root_equivalent"].as_array().into_iter().flatten() {
                    dt { "Root-equivalent" } dd { code { (text(&r["name"])) } ": " (text(&r["why"])) }
                }
                dt { "Host namespaces" } dd { (list(&p["host_namespaces"])) }
                dt { "Runs as root" } dd { (yes_no(&p["runs_as_root"])) }
                dt { "Read-only root" } dd { (yes_no(&p["readonly_rootfs"])) }
                dt { "No new privileges" } dd { (yes_no(&p["no_new_privileges"])) }
                dt { "Seccomp" } dd { (text(&p["seccomp"])) }
                dt { "All devices" } dd { (yes_no(&p["all_devices"])) }
                @for b in p["binds"].as_array().into_iter().flatten() {
                    dt { "Bind" }
                    dd {
                        code { (text(&b["source"])) } " → " code { (text(&b["destination"])) }
                        @if b["writable"] == true { " writable" } @else { " read-only" }
                        @if b["sensitive"] == true { " " span class="badge danger" { "sensitive" } }
                    }
                }
            }
        }
    }
}

/// Files × checks: the five headline checks of every ELF file, with setuid and RPATH beside
/// them. A cell's title is the check's evidence.
fn hardening_matrix(binaries: &[&Value]) -> Markup {
    let judged: Vec<&&Value> = binaries.iter().filter(|b| b["elf"]["status"] == "elf").collect();
    let malformed: Vec<&&Value> = binaries.iter().filter(|b| b["elf"]["status"] == "malformed").collect();
    html! {
        details class="hardening" open {
            summary { "Binary hardening (" (judged.len()) " ELF files)" }
            @if binaries.is_empty() {
                p { "No ELF files." }
            } @else {
                (filterable("matrix", &["File", "PIE", "RELRO", "NX", "Canary", "Fortify", "setuid", "RPATH"], html! {
                    @for b in &judged {
                        tr {
                            td { code { (text(&b["path"])) } }
                            @for check in HARDENING_CHECKS {
                                @let c = &b["elf"]["hardening"][check];
                                @let result = c["result"].as_str().unwrap_or("unknown");
                                td class={ "check " (result) } title=(text(&c["evidence"])) { (symbol(result)) }
                            }
                            td { @if b["file"]["setuid"] == true || b["file"]["setgid"] == true { span class="badge warn" { "set-id" } } }
                            td { code { (strings(&b["elf"]["rpath"]).chain(strings(&b["elf"]["runpath"])).collect::<Vec<_>>().join(":")) } }
                        }
                    }
                    @for b in &malformed {
                        tr {
                            td { code { (text(&b["path"])) } }
                            td colspan="7" class="check fail" { "malformed: " (text(&b["elf"]["reason"])) }
                        }
                    }
                }))
            }
        }
    }
}

fn symbol(result: &str) -> &'static str {
    match result {
        "pass" => "✓ pass",
        "fail" => "✗ fail",
        "na" => "– n/a",
        _ => "? unknown",
    }
}

fn packages_table(packages: &[Value]) -> Markup {
    html! {
        details class="packages" open {
            summary { "Packages (" (packages.len()) ")" }
            @if packages.is_empty() {
                p { "No packages found." }
            } @else {
                (filterable("", &["Package", "Version", "Type", "Licences", "Supplier"], html! {
                    @for p in packages {
                        tr {
                            td { (text(&p["name"])) }
                            td { (text(&p["version"])) }
                            td { (text(&p["type"])) }
                            td { (strings(&p["licenses"]).collect::<Vec<_>>().join(", ")) }
                            td { (text(&p["supplier"])) }
                        }
                    }
                }))
            }
        }
    }
}

fn vulnerabilities_table(matches: &[&Value]) -> Markup {
    html! {
        details class="vulnerabilities" open {
            summary { "Known vulnerabilities (" (matches.len()) ")" }
            (filterable("", &["Id", "Package", "Severity", "Status", "Fixed in", "Summary"], html! {
                @for m in matches {
                    @let level = m["rating"]["level"].as_str().unwrap_or("unknown").to_lowercase();
                    tr data-severity=(level) {
                        td { (text(&m["id"])) }
                        td { (text(&m["package"]["name"])) " " (text(&m["package"]["version"])) }
                        td { span class={ "sev " (level) } { (level) } }
                        td { (text(&m["status"])) }
                        td { (text(&m["fixed"])) }
                        td { (text(&m["summary"])) }
                    }
                }
            }))
        }
    }
}

/// The files facts worth a person's eye: set-id files, world-writable paths, secrets.
fn files(c: &Value) -> Markup {
    let set_id = c["files"]["setuid_setgid"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    let writable = c["files"]["world_writable"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    let secrets = c["secrets"]["findings"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    html! {
        @if !(set_id.is_empty() && writable.is_empty() && secrets.is_empty()) {
            details class="files" open {
                summary { "Files" }
                (filterable("", &["Path", "What"], html! {
                    @for f in set_id {
                        tr { td { code { (text(&f["path"])) } } td { "set-id, mode " (text(&f["mode"])) } }
                    }
                    @for f in writable {
                        tr { td { code { (text(&f["path"])) } } td { "world-writable " (text(&f["kind"])) } }
                    }
                    @for s in secrets {
                        tr data-severity=(text(&s["severity"]).to_lowercase()) {
                            td { code { (text(&s["path"])) } ":" (s["line"].as_u64().unwrap_or(0)) }
                            td { "secret: " (text(&s["rule"])) " (" (text(&s["category"])) ")" }
                        }
                    }
                }))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn between<'a>(page: &'a str, open: &str, close: &str) -> &'a str {
        let start = page.find(open).unwrap() + open.len();
        &page[start..start + page[start..].find(close).unwrap()]
    }

    /// The browser runs the inline script and applies the inline style only if their hashes
    /// are the ones the policy names: the page as written, not the constants, is hashed here.
    #[test]
    fn the_policy_admits_exactly_the_pages_own_script_and_style() {
        let evidence = serde_json::json!({"schema": EVIDENCE_SCHEMA, "components": []});
        let page = write(&evidence, None);
        let policy = between(&page, "http-equiv=\"Content-Security-Policy\" content=\"", "\"");
        assert!(policy.starts_with("default-src 'none';"), "{policy}");
        let style = between(&page, "<style>", "</style>");
        let script = between(&page, "<script>", "</script>");
        assert!(policy.contains(&format!("style-src '{}'", csp_hash(style))), "{policy}");
        assert!(
            policy.contains(&format!("script-src '{}'", csp_hash(script))),
            "{policy}"
        );
        assert_eq!(page.matches("<script").count(), 1);
    }

    #[test]
    fn findings_are_listed_worst_first() {
        let decision = serde_json::json!({"results": [
            {"id": "a", "status": "warned", "severity": "LOW"},
            {"id": "b", "status": "passed", "severity": "CRITICAL"},
            {"id": "c", "status": "excepted", "severity": "HIGH"},
            {"id": "d", "status": "denied", "severity": "HIGH"},
            {"id": "e", "status": "denied", "severity": "CRITICAL"}
        ]});
        let ids: Vec<&str> = findings(Some(&decision)).iter().map(|r| text(&r["id"])).collect();
        assert_eq!(ids, ["e", "d", "c", "a"]);
    }

    #[test]
    fn a_bar_shows_every_status_that_has_findings() {
        assert_eq!(
            segments(&[1, 0, 300], 301, 330),
            [("denied", 0, 2), ("excepted", 2, 328)]
        );
        assert!(segments(&[0, 0, 0], 1, 330).is_empty());
    }
}
