//! The people and organisations an SBOM names: who supplies what it describes, and who made the
//! document besides sealkit. Written as SPDX writes them (`Organization: NAME` or `Person: NAME`,
//! each with an optional `(EMAIL)`), and read in that form from the command line and lock files.

use std::fmt;
use std::str::FromStr;

/// The accepted forms, for messages.
pub const FORMS: &str = "\"Organization: NAME\" or \"Person: NAME (EMAIL)\" (the e-mail address is optional)";

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    Organization,
    Person,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Party {
    pub kind: Kind,
    pub name: String,
    pub email: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{text:?}: {problem}; write {FORMS}")]
pub struct BadParty {
    pub text: String,
    pub problem: &'static str,
}

impl Party {
    /// An organisation known by its name alone (an image's registry namespace or vendor label).
    pub fn organization(name: &str) -> Option<Party> {
        let name = name.trim();
        (!name.is_empty() && name.chars().all(allowed)).then(|| Party {
            kind: Kind::Organization,
            name: name.to_owned(),
            email: None,
        })
    }
}

/// Characters a name or address may hold: the SPDX form has no escapes, so the brackets that
/// delimit the address are not allowed in the name, nor line breaks in either.
fn allowed(c: char) -> bool {
    !c.is_control() && c != '(' && c != ')'
}

impl FromStr for Party {
    type Err = BadParty;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = |problem| BadParty {
            text: text.to_owned(),
            problem,
        };
        let (kind, rest) = if let Some(rest) = text.strip_prefix("Organization:") {
            (Kind::Organization, rest)
        } else if let Some(rest) = text.strip_prefix("Person:") {
            (Kind::Person, rest)
        } else {
            return Err(bad("it does not start with `Organization:` or `Person:`"));
        };
        let rest = rest.trim();
        let (name, email) = match rest.strip_suffix(')') {
            Some(open) => {
                let (name, email) = open.rsplit_once('(').ok_or_else(|| bad("a `)` closes nothing"))?;
                let email = email.trim();
                if email.is_empty() || !email.contains('@') || email.contains(char::is_whitespace) {
                    return Err(bad("the part in brackets is not an e-mail address"));
                }
                (name.trim(), Some(email))
            }
            None => (rest, None),
        };
        if name.is_empty() {
            return Err(bad("the name is empty"));
        }
        if !name.chars().chain(email.unwrap_or_default().chars()).all(allowed) {
            return Err(bad("brackets and control characters are not allowed in the name"));
        }
        Ok(Party {
            kind,
            name: name.to_owned(),
            email: email.map(str::to_owned),
        })
    }
}

impl TryFrom<String> for Party {
    type Error = BadParty;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        text.parse()
    }
}

impl From<Party> for String {
    fn from(p: Party) -> String {
        p.to_string()
    }
}

impl fmt::Display for Party {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.kind {
            Kind::Organization => "Organization",
            Kind::Person => "Person",
        };
        write!(f, "{kind}: {}", self.name)?;
        if let Some(email) = &self.email {
            write!(f, " ({email})")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_forms_read_and_write_back() {
        for text in [
            "Organization: Example Corp",
            "Organization: Example Corp (sbom@example.com)",
            "Person: Jane Doe (jane@example.com)",
            "Person: Jane Doe",
        ] {
            assert_eq!(text.parse::<Party>().unwrap().to_string(), text);
        }
        let p: Party = "Person:  Jane Doe ( jane@example.com )".parse().unwrap();
        assert_eq!(
            (p.kind, p.name.as_str(), p.email.as_deref()),
            (Kind::Person, "Jane Doe", Some("jane@example.com"))
        );
    }

    #[test]
    fn other_forms_are_refused_naming_the_accepted_ones() {
        for (text, problem) in [
            ("Example Corp", "does not start"),
            ("organization: Example", "does not start"),
            ("Tool: sealkit", "does not start"),
            ("Organization:   ", "empty"),
            ("Person: Jane (not an address)", "e-mail"),
            ("Person: Jane ()", "e-mail"),
            ("Person: Jane)", "closes nothing"),
            ("Organization: A (B) (c@d)", "brackets"),
            ("Organization: A\nB", "control"),
        ] {
            let e = text.parse::<Party>().unwrap_err().to_string();
            assert!(e.contains(problem) && e.contains(FORMS), "{text:?}: {e}");
        }
    }

    #[test]
    fn an_organization_from_a_name() {
        assert_eq!(
            Party::organization("sealkit-fixtures").unwrap().to_string(),
            "Organization: sealkit-fixtures"
        );
        assert_eq!(Party::organization(" "), None);
        assert_eq!(Party::organization("a (b)"), None);
    }
}
