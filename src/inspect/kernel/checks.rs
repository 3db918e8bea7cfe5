//! The rule data the baseline policy judges a kernel configuration by
//! (policies/baseline/kernel-config.json, built in), and what each item means for one
//! configuration. The file's `semantics` block states the same meaning for policy authors.

use std::sync::OnceLock;

use serde::Deserialize;

use super::config::{KernelConfig, KernelVersion, Value, parse_integer};

const DATA: &str = include_str!("../../../policies/baseline/kernel-config.json");

#[derive(Debug, Clone, Deserialize)]
pub struct CheckList {
    pub checks: Vec<Check>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Deny,
    Warn,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Test {
    Is,
    NotSet,
    ListContains,
}

/// A test on one option.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Condition {
    pub option: String,
    pub test: Test,
    pub value: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Check {
    pub id: String,
    pub level: Level,
    pub option: String,
    pub test: Test,
    pub value: Option<String>,
    #[serde(default)]
    pub arch: Vec<String>,
    pub since: Option<String>,
    pub before: Option<String>,
    #[serde(default)]
    pub when: Vec<Condition>,
    pub source: String,
    #[serde(rename = "ref")]
    pub reference: String,
    pub also: Option<String>,
    pub linuxkit_condition: Option<String>,
    pub note: Option<String>,
}

/// What an item says of one configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Pass,
    /// The option's value, or `None` when the file does not mention it.
    Fail(Option<String>),
    /// Its architecture, version range or conditions do not cover this kernel.
    NotApplicable,
    /// Whether it applies cannot be told (no version or architecture in the configuration).
    Unknown(String),
}

/// The built-in list. The file ships inside the binary and a unit test reads it, so it is valid.
pub fn check_list() -> &'static CheckList {
    static LIST: OnceLock<CheckList> = OnceLock::new();
    LIST.get_or_init(|| {
        serde_json::from_str(DATA).unwrap_or_else(|e| panic!("policies/baseline/kernel-config.json: {e}"))
    })
}

impl Condition {
    pub fn holds(&self, config: &KernelConfig) -> bool {
        holds(&self.option, self.test, self.value.as_deref(), config)
    }
}

fn holds(option: &str, test: Test, value: Option<&str>, config: &KernelConfig) -> bool {
    let found = config.get(option);
    let expected = value.unwrap_or_default();
    match test {
        Test::NotSet => matches!(found, None | Some(Value::NotSet)),
        Test::Is => found.is_some_and(|v| match (v.integer(), parse_integer(expected)) {
            (Some(a), Some(b)) => a == b,
            _ => v.text() == expected,
        }),
        Test::ListContains => {
            matches!(found, Some(Value::Str(list)) if list.split(',').any(|item| item.trim() == expected))
        }
    }
}

impl Check {
    pub fn evaluate(&self, config: &KernelConfig) -> Outcome {
        if !self.arch.is_empty() {
            match &config.arch {
                None => return Outcome::Unknown("the configuration does not say its architecture".into()),
                Some(arch) if !self.arch.contains(arch) => return Outcome::NotApplicable,
                Some(_) => {}
            }
        }
        if self.since.is_some() || self.before.is_some() {
            let Some(version) = config.version else {
                return Outcome::Unknown("the configuration does not say its kernel version".into());
            };
            let gate = |v: &Option<String>| v.as_deref().and_then(KernelVersion::parse);
            if gate(&self.since).is_some_and(|since| version < since)
                || gate(&self.before).is_some_and(|before| version >= before)
            {
                return Outcome::NotApplicable;
            }
        }
        if !self.when.iter().all(|c| c.holds(config)) {
            return Outcome::NotApplicable;
        }
        if holds(&self.option, self.test, self.value.as_deref(), config) {
            Outcome::Pass
        } else {
            Outcome::Fail(config.get(&self.option).map(|v| v.text().to_string()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(text: &str) -> KernelConfig {
        KernelConfig::parse(text.as_bytes(), "test").unwrap()
    }

    fn check(id: &str) -> &'static Check {
        check_list().checks.iter().find(|c| c.id == id).unwrap()
    }

    #[test]
    fn the_shipped_list_is_well_formed() {
        let list = check_list();
        let mut ids: Vec<_> = list.checks.iter().map(|c| c.id.as_str()).collect();
        let count = ids.len();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), count, "ids are unique");
        for c in &list.checks {
            assert_eq!(c.value.is_some(), c.test != Test::NotSet, "{}: value", c.id);
            for gate in [&c.since, &c.before].into_iter().flatten() {
                assert!(KernelVersion::parse(gate).is_some(), "{}: version {gate}", c.id);
            }
            assert!(c.reference.starts_with("https://"), "{}", c.id);
            assert_eq!(
                c.level == Level::Deny,
                c.source == "linuxkit",
                "{}: LinuxKit's items deny",
                c.id
            );
        }
        assert!(list.checks.iter().any(|c| c.level == Level::Warn));
    }

    #[test]
    fn tests_compare_as_the_semantics_say() {
        let c = config(concat!(
            "# Linux/x86 6.12.59 Kernel Configuration\nCONFIG_X86_64=y\nCONFIG_MAGIC_SYSRQ=y\n",
            "CONFIG_MAGIC_SYSRQ_DEFAULT_ENABLE=0xb0\nCONFIG_LSM=\"landlock, yama\"\nCONFIG_KEXEC=y\n",
            "# CONFIG_DEVMEM is not set\nCONFIG_MODULES=y\nCONFIG_MODULE_SIG_HASH=\"sha256\"\n",
        ));
        assert_eq!(check("kspp-magic-sysrq-default-enable").evaluate(&c), Outcome::Pass);
        assert_eq!(check("kspp-lsm-yama").evaluate(&c), Outcome::Pass);
        assert_eq!(
            check("kspp-lsm-lockdown").evaluate(&c),
            Outcome::Fail(Some("landlock, yama".into()))
        );
        assert_eq!(check("linuxkit-kexec").evaluate(&c), Outcome::Fail(Some("y".into())));
        assert_eq!(check("kspp-devmem").evaluate(&c), Outcome::Pass);
        // Not in the file at all counts as not set.
        assert_eq!(check("linuxkit-compat-brk").evaluate(&c), Outcome::Pass);
        assert_eq!(check("linuxkit-bug").evaluate(&c), Outcome::Fail(None));
        assert_eq!(
            check("kspp-module-sig-hash").evaluate(&c),
            Outcome::Fail(Some("sha256".into()))
        );
    }

    #[test]
    fn gates_decide_whether_an_item_applies() {
        let new = config("# Linux/x86 6.12.59 Kernel Configuration\nCONFIG_X86_64=y\nCONFIG_BUG=y\n");
        let old = config("# Linux/x86 6.1.192 Kernel Configuration\nCONFIG_X86_64=y\nCONFIG_BUG=y\n");
        let arm = config("# Linux/arm64 6.12.59 Kernel Configuration\nCONFIG_ARM64=y\nCONFIG_KEXEC=y\n");
        let bare = config("CONFIG_BUG=y\n");
        let pti = check("linuxkit-page-table-isolation");
        assert_eq!(pti.evaluate(&new), Outcome::NotApplicable);
        assert_eq!(pti.evaluate(&old), Outcome::Fail(None));
        assert_eq!(
            check("linuxkit-mitigation-page-table-isolation").evaluate(&old),
            Outcome::NotApplicable
        );
        assert_eq!(check("linuxkit-kexec").evaluate(&arm), Outcome::NotApplicable);
        assert_eq!(check("kspp-kexec").evaluate(&arm), Outcome::Fail(Some("y".into())));
        assert!(matches!(pti.evaluate(&bare), Outcome::Unknown(_)));
        assert_eq!(check("linuxkit-bug").evaluate(&bare), Outcome::Pass);
        let no_version = config("CONFIG_X86_64=y\n");
        assert!(matches!(
            check("linuxkit-ubsan").evaluate(&no_version),
            Outcome::Unknown(_)
        ));
        // `when`: the module-signing items apply only to kernels with modules.
        assert_eq!(check("kspp-module-sig").evaluate(&new), Outcome::NotApplicable);
        // The upper bound is exclusive, the lower inclusive.
        let at = config("# Linux/x86 6.6.8 Kernel Configuration\nCONFIG_X86_64=y\n");
        assert_eq!(check("kspp-debug-credentials").evaluate(&at), Outcome::NotApplicable);
        let below = config("# Linux/x86 6.6.7 Kernel Configuration\nCONFIG_X86_64=y\n");
        assert_eq!(check("kspp-debug-credentials").evaluate(&below), Outcome::Fail(None));
    }
}
