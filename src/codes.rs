//! Stable error codes. Each stage declares its own `Code` enum with [`error_codes!`]: a kebab-case
//! name that scripts, JSON outputs and docs/errors.md use, and a sentence saying what it means.
//! A name is never changed once released; a new kind of error gets a new name.

/// Declares `pub enum Code` with `ALL`, `as_str`, `meaning`, `Display` and `Serialize` (as the
/// kebab-case name).
#[macro_export]
macro_rules! error_codes {
    ($( $(#[$attr:meta])* $variant:ident = $name:literal : $meaning:literal, )+) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Code {
            $( $(#[$attr])* #[doc = $meaning] $variant, )+
        }

        impl Code {
            pub const ALL: &'static [Code] = &[$(Code::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(Code::$variant => $name,)+
                }
            }

            /// What the code means, for docs/errors.md and `--help`-style listings.
            pub fn meaning(self) -> &'static str {
                match self {
                    $(Code::$variant => $meaning,)+
                }
            }
        }

        impl std::fmt::Display for Code {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for Code {
            fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }
    };
}
