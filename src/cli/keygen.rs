//! `sealkit keygen [-o PREFIX] [--algorithm ed25519|ecdsa-p256]`: a signing key pair.

use std::path::PathBuf;

use sealkit::keys::{self, Algorithm, KeyError, Password, SigningKey};

use super::{Failure, Outcome};

impl From<KeyError> for Failure {
    fn from(e: KeyError) -> Self {
        Failure::input(e.code().as_str(), e)
    }
}

/// Where a command's key password comes from.
#[derive(clap::Args)]
pub struct PasswordArgs {
    /// Read the key's password from FILE (its first line) instead of $SEALKIT_PASSWORD
    #[arg(long, value_name = "FILE")]
    pub password_file: Option<PathBuf>,
}

impl PasswordArgs {
    pub fn password(&self) -> Result<Option<Password>, Failure> {
        Ok(Password::from_file_or_env(self.password_file.as_deref())?)
    }
}

#[derive(clap::Args)]
pub struct KeygenArgs {
    /// Writes PREFIX.key (the private key, mode 0600) and PREFIX.pub (the public key)
    #[arg(short, long, value_name = "PREFIX", default_value = "sealkit")]
    output: PathBuf,
    #[arg(long, value_enum, default_value = "ed25519")]
    algorithm: Algorithm,
    /// With a password ($SEALKIT_PASSWORD or --password-file) the private key is encrypted in
    /// cosign's format; without, it is plain PKCS#8
    #[command(flatten)]
    password: PasswordArgs,
}

pub fn run(args: &KeygenArgs) -> Outcome {
    let password = args.password.password()?;
    let key = SigningKey::generate(args.algorithm)?;
    let (private, public) = keys::write_pair(&args.output, &key, password.as_ref())?;
    eprintln!(
        "wrote {} ({}, {}) and {}\n  key id {}",
        private.display(),
        key.algorithm(),
        if password.is_some() {
            "encrypted"
        } else {
            "not encrypted"
        },
        public.display(),
        key.public_key().key_id()
    );
    Ok(())
}
