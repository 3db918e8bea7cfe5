//! `sealkit keygen [-o PREFIX] [--algorithm ed25519|ecdsa-p256]`: a signing key pair; with
//! `--secure-boot`, a folder of Secure Boot keys (PK, KEK, db) to enrol in firmware.

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
    /// Write Secure Boot keys into the folder -o names instead: PK, KEK and db, each an RSA-2048
    /// key (NAME.key, mode 0600), a self-signed certificate (NAME.crt) and an EFI signature list
    /// (NAME.esl), and owner.guid (keys/README.md says how to enrol them)
    #[arg(long, conflicts_with_all = ["algorithm", "password_file"])]
    secure_boot: bool,
    /// The name the Secure Boot certificates carry (CN=NAME Secure Boot db)
    #[arg(long, default_value = "sealkit", requires = "secure_boot")]
    name: String,
}

pub fn run(args: &KeygenArgs) -> Outcome {
    if args.secure_boot {
        return secure_boot(args);
    }
    let password = args.password.password()?;
    let key = SigningKey::generate(args.algorithm)?;
    let (private, public) = keys::write_pair(&args.output, &key, password.as_ref())?;
    super::log::info(&format!(
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
    ));
    Ok(())
}

fn secure_boot(args: &KeygenArgs) -> Outcome {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let dir = &args.output;
    let code = "keygen";
    let io = |path: &std::path::Path, e: std::io::Error| Failure::input(code, format!("{}: {e}", path.display()));
    std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
    let names: Vec<String> = sealkit::secureboot::ROLES
        .iter()
        .flat_map(|role| ["key", "crt", "esl"].map(|ext| format!("{role}.{ext}")))
        .chain(["owner.guid".to_owned()])
        .collect();
    if let Some(taken) = names.iter().find(|n| dir.join(n).exists()) {
        return Err(Failure::usage(format!(
            "error: {} exists: keygen never replaces a key\n  hint: give -o an empty or new folder",
            dir.join(taken).display()
        )));
    }
    let (owner_text, owner) = sealkit::secureboot::new_owner().map_err(|e| Failure::input(code, e))?;
    let from = sealkit::epoch::source_date_epoch()?;
    let mut generated = Vec::new();
    for role in sealkit::secureboot::ROLES {
        generated
            .push(sealkit::secureboot::generate(role, &args.name, &owner, from).map_err(|e| Failure::input(code, e))?);
    }
    let write = |name: &str, bytes: &[u8], mode: u32| {
        let path = dir.join(name);
        std::fs::File::options()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(&path)
            .and_then(|mut f| f.write_all(bytes))
            .map_err(|e| io(&path, e))
    };
    for key in &generated {
        write(&format!("{}.key", key.role), key.key_pem.as_bytes(), 0o600)?;
        write(&format!("{}.crt", key.role), key.certificate_pem.as_bytes(), 0o644)?;
        write(&format!("{}.esl", key.role), &key.signature_list, 0o644)?;
    }
    write("owner.guid", format!("{owner_text}\n").as_bytes(), 0o644)?;
    super::log::info(&format!(
        "wrote Secure Boot keys PK, KEK and db (RSA-2048: .key, .crt, .esl) into {}, owner {owner_text}\n  sign boot images with \
         --sign-uki {} --sign-cert {}",
        dir.display(),
        dir.join("db.key").display(),
        dir.join("db.crt").display()
    ));
    Ok(())
}
