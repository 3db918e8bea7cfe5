//! What people read first about an image: per component, its packages, its binaries and how
//! hardened they are, and the privileges it runs with. Read from the evidence document (its
//! JSON, the contract every report is made from), so the gate's table and a report of a saved
//! evidence.json say the same.

use serde::Serialize;

/// The hardening checks a binary is scored on: checksec's and hardening-check's headline five.
pub const HARDENING_CHECKS: [&str; 5] = ["pie", "relro_check", "nx", "canary", "fortify"];

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub components: Vec<ComponentSummary>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ComponentSummary {
    /// kernel, init, onboot, onshutdown or service.
    pub role: String,
    pub name: String,
    pub packages: usize,
    /// ELF files.
    pub binaries: usize,
    pub hardening: Hardening,
    /// None for the kernel and init images, which run as the system itself.
    pub privileges: Option<PrivilegeSummary>,
}

/// Of the [`HARDENING_CHECKS`] that could be judged on the component's binaries (pass or
/// fail; not applicable and unknown left out), how many passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Hardening {
    pub passed: usize,
    pub judged: usize,
}

impl Hardening {
    /// The share passed, in whole percent; none when nothing could be judged.
    pub fn percent(self) -> Option<usize> {
        (self.judged > 0).then(|| self.passed * 100 / self.judged)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PrivilegeSummary {
    pub all_capabilities: bool,
    pub capabilities: usize,
    /// The host namespaces it shares (`net`, `pid`…).
    pub host_namespaces: Vec<String>,
}

impl Summary {
    /// The summary of an evidence document (`sealkit scan --format json`, the gate's
    /// evidence.json). Fields it lacks count as empty.
    pub fn of_evidence(evidence: &serde_json::Value) -> Summary {
        let components = evidence["components"]
            .as_array()
            .into_iter()
            .flatten()
            .map(component)
            .collect();
        Summary { components }
    }
}

fn component(c: &serde_json::Value) -> ComponentSummary {
    let text = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_owned();
    let count = |v: &serde_json::Value| v.as_array().map_or(0, Vec::len);
    let binaries: Vec<&serde_json::Value> = c["binaries"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|b| b["elf"]["status"] == "elf")
        .collect();
    let mut hardening = Hardening::default();
    for check in binaries
        .iter()
        .flat_map(|b| HARDENING_CHECKS.map(|name| &b["elf"]["hardening"][name]))
    {
        match check["result"].as_str() {
            Some("pass") => {
                hardening.passed += 1;
                hardening.judged += 1;
            }
            Some("fail") => hardening.judged += 1,
            _ => {}
        }
    }
    let privileges = c["privileges"].as_object().map(|p| PrivilegeSummary {
        all_capabilities: p.get("all_capabilities").and_then(serde_json::Value::as_bool) == Some(true),
        capabilities: p.get("capabilities").map_or(0, count),
        host_namespaces: p
            .get("host_namespaces")
            .and_then(serde_json::Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|n| n.as_str().map(str::to_owned))
            .collect(),
    });
    ComponentSummary {
        role: text(&c["role"]),
        name: text(&c["name"]),
        packages: count(&c["packages"]),
        binaries: binaries.len(),
        hardening,
        privileges,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binaries_are_scored_on_what_could_be_judged() {
        let evidence = serde_json::json!({"components": [
            {"role": "service", "name": "web", "packages": [{}, {}],
             "privileges": {"all_capabilities": false, "capabilities": ["CAP_NET_ADMIN"], "host_namespaces": ["net"]},
             "binaries": [
                {"elf": {"status": "elf", "hardening": {
                    "pie": {"result": "pass"}, "relro_check": {"result": "pass"}, "nx": {"result": "pass"},
                    "canary": {"result": "fail"}, "fortify": {"result": "unknown"}}}},
                {"elf": {"status": "not-elf"}}
             ]},
            {"role": "kernel", "name": "kernel"}
        ]});
        let summary = Summary::of_evidence(&evidence);
        let web = &summary.components[0];
        assert_eq!((web.packages, web.binaries), (2, 1));
        assert_eq!(web.hardening, Hardening { passed: 3, judged: 4 });
        assert_eq!(web.hardening.percent(), Some(75));
        let privileges = web.privileges.as_ref().unwrap();
        assert_eq!(
            (privileges.capabilities, privileges.host_namespaces.as_slice()),
            (1, &["net".to_owned()][..])
        );
        let kernel = &summary.components[1];
        assert_eq!(
            (kernel.binaries, kernel.hardening.percent(), kernel.privileges.is_none()),
            (0, None, true)
        );
    }
}
