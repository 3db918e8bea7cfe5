//! Rekor (v1) transparency-log entries as a Sigstore bundle carries them: Rekor's inclusion
//! promise (a Signed Entry Timestamp), the inclusion proof (RFC 9162 §2.1.3) up to a
//! checkpoint signed by the log (a signed note), and the entry's body, which must record
//! exactly what the bundle signed.

use base64::Engine as _;
use sha2::{Digest as _, Sha256};

use super::trusted_root::TrustedRoot;
use crate::keys::PublicKey;

/// The deepest inclusion proof read: a log of 2^64 entries needs 64 hashes.
const MAX_PROOF: usize = 64;
/// The largest checkpoint read: a few lines and signatures.
const MAX_CHECKPOINT: usize = 16 << 10;

/// What Rekor signs when it promises to log an entry (the Signed Entry Timestamp's payload).
#[derive(serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Promised {
    /// The entry's canonical body, base64.
    pub body: String,
    #[serde(rename = "integratedTime")]
    pub integrated_time: i64,
    /// The log's key id, hex.
    #[serde(rename = "logID")]
    pub log_id: String,
    #[serde(rename = "logIndex")]
    pub log_index: i64,
}

impl Promised {
    /// Checks Rekor's signature (`signed_entry_timestamp`, base64) over the canonical JSON of
    /// the entry; the entry's body, decoded, when one of `rekor_keys` made it.
    pub fn verify(&self, rekor_keys: &[PublicKey], signed_entry_timestamp: &str) -> Result<Vec<u8>, String> {
        let b64 = &base64::engine::general_purpose::STANDARD;
        // RFC 8785 canonical form: keys sorted (the struct's field order), no spaces; every
        // value here is an ASCII string or an integer, which serde_json writes canonically.
        let canonical = serde_json::to_vec(self).map_err(|e| e.to_string())?;
        let set_signature = b64
            .decode(signed_entry_timestamp)
            .map_err(|e| format!("the Rekor timestamp is not base64: {e}"))?;
        if !rekor_keys.iter().any(|k| k.verify(&canonical, &set_signature)) {
            return Err("the Rekor entry is not signed by a trusted Rekor key".into());
        }
        b64.decode(&self.body)
            .map_err(|e| format!("the Rekor entry's body is not base64: {e}"))
    }
}

/// The DER of a key or certificate a Rekor entry records (base64 of its PEM).
pub fn logged_der(base64_pem: &str) -> Result<Vec<u8>, String> {
    let pem = base64::engine::general_purpose::STANDARD
        .decode(base64_pem)
        .map_err(|e| format!("the Rekor entry's key is not base64: {e}"))?;
    let text = std::str::from_utf8(&pem).map_err(|_| "the Rekor entry's key is not PEM text".to_owned())?;
    let (_, der) = crate::certificates::pem_block(text).ok_or("the Rekor entry's key or certificate is not PEM")?;
    Ok(der)
}

/// One entry, as read from the bundle (untrusted until [`Entry::verify`]).
#[derive(Debug, Clone)]
pub struct Entry {
    pub log_index: i64,
    pub log_id: Vec<u8>,
    pub kind: String,
    pub version: String,
    pub integrated_time: i64,
    pub promise: Option<Vec<u8>>,
    pub proof: Option<Proof>,
    pub body_b64: String,
    pub body: Vec<u8>,
}

#[derive(Debug, Clone)]
pub struct Proof {
    pub log_index: i64,
    pub tree_size: i64,
    pub root_hash: Vec<u8>,
    pub hashes: Vec<Vec<u8>>,
    pub checkpoint: String,
}

/// What a verified entry vouches for.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Logged {
    pub log_url: String,
    pub log_index: i64,
    /// When the log integrated the entry (seconds), when its promise was checked.
    pub integrated_time: Option<i64>,
    pub promise_checked: bool,
    pub proof_checked: bool,
}

fn b64(text: &str, what: &str) -> Result<Vec<u8>, String> {
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .map_err(|e| format!("the log entry's {what} is not base64 ({e})"))
}

/// Protocol buffers' JSON writes 64-bit integers as strings.
fn integer(v: &serde_json::Value, what: &str) -> Result<i64, String> {
    v.as_i64()
        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        .or_else(|| v.is_null().then_some(0))
        .ok_or_else(|| format!("the log entry's {what} is not an integer"))
}

impl Entry {
    pub fn parse(v: &serde_json::Value) -> Result<Entry, String> {
        let log_index = integer(&v["logIndex"], "logIndex")?;
        if log_index < 0 {
            return Err(format!("the log entry's index {log_index} is negative"));
        }
        let body_b64 = v["canonicalizedBody"].as_str().unwrap_or_default().to_owned();
        let body = b64(&body_b64, "canonicalizedBody")?;
        if body.is_empty() {
            return Err("the log entry has no body".into());
        }
        let promise = v["inclusionPromise"]["signedEntryTimestamp"]
            .as_str()
            .map(|s| b64(s, "signedEntryTimestamp"))
            .transpose()?;
        let proof = match v.get("inclusionProof").filter(|p| !p.is_null()) {
            None => None,
            Some(p) => {
                let hashes = p["hashes"].as_array().map(Vec::as_slice).unwrap_or_default();
                if hashes.len() > MAX_PROOF {
                    return Err(format!(
                        "an inclusion proof of {} hashes, more than {MAX_PROOF}",
                        hashes.len()
                    ));
                }
                let checkpoint = p["checkpoint"]["envelope"].as_str().unwrap_or_default();
                if checkpoint.len() > MAX_CHECKPOINT {
                    return Err("a checkpoint larger than 16 KiB".into());
                }
                Some(Proof {
                    log_index: integer(&p["logIndex"], "inclusionProof.logIndex")?,
                    tree_size: integer(&p["treeSize"], "inclusionProof.treeSize")?,
                    root_hash: b64(p["rootHash"].as_str().unwrap_or_default(), "rootHash")?,
                    hashes: hashes
                        .iter()
                        .map(|h| b64(h.as_str().unwrap_or_default(), "proof hash"))
                        .collect::<Result<_, _>>()?,
                    checkpoint: checkpoint.to_owned(),
                })
            }
        };
        Ok(Entry {
            log_index,
            log_id: b64(v["logId"]["keyId"].as_str().unwrap_or_default(), "logId")?,
            kind: v["kindVersion"]["kind"].as_str().unwrap_or_default().to_owned(),
            version: v["kindVersion"]["version"].as_str().unwrap_or_default().to_owned(),
            integrated_time: integer(&v["integratedTime"], "integratedTime")?,
            promise,
            proof,
            body_b64,
            body,
        })
    }

    /// Checks the entry against the log the trusted root names for it: the promise when
    /// there is one (required by `need_promise`), the inclusion proof and its checkpoint when
    /// there is one (required by `need_proof`), and that it was not integrated after `now`.
    /// A Rekor v2 entry has no integrated time: its log is looked up at `timestamped`, the
    /// time a verified RFC 3161 timestamp gives, and its inclusion proof is required.
    pub fn verify(
        &self,
        root: &TrustedRoot,
        need_promise: bool,
        need_proof: bool,
        now: i64,
        timestamped: Option<i64>,
    ) -> Result<Logged, String> {
        let v2 = self.integrated_time == 0;
        let at = if v2 {
            timestamped.ok_or("a Rekor v2 entry has no integrated time, and the bundle no verified timestamp")?
        } else {
            self.integrated_time
        };
        if self.integrated_time > now {
            return Err(format!(
                "the log entry was integrated at {}, in the future",
                crate::epoch::rfc3339(self.integrated_time as u64)
            ));
        }
        let (need_promise, need_proof) = if v2 { (false, true) } else { (need_promise, need_proof) };
        let log = root.tlog(&self.log_id, at.saturating_mul(1000)).ok_or(
            "the log entry's log is not in the trusted root, or its key was not valid when the entry was made",
        )?;
        let mut logged = Logged {
            log_url: log.base_url.clone(),
            log_index: self.log_index,
            integrated_time: None,
            promise_checked: false,
            proof_checked: false,
        };
        match &self.promise {
            Some(promise) => {
                let promised = Promised {
                    body: self.body_b64.clone(),
                    integrated_time: self.integrated_time,
                    log_id: hex::encode(&self.log_id),
                    log_index: self.log_index,
                };
                let encoded = base64::engine::general_purpose::STANDARD.encode(promise);
                promised
                    .verify(std::slice::from_ref(&log.key), &encoded)
                    .map_err(|_| "the log's inclusion promise (Signed Entry Timestamp) does not verify".to_owned())?;
                logged.integrated_time = Some(self.integrated_time);
                logged.promise_checked = true;
            }
            None if need_promise => return Err("the log entry has no inclusion promise".into()),
            None => {}
        }
        match &self.proof {
            // A v0.1 bundle may carry a proof without the checkpoint that signs its root: it
            // proves nothing then, and the promise stands alone, as the Sigstore clients read it.
            Some(proof) if proof.checkpoint.is_empty() && !need_proof => {}
            Some(proof) => {
                verify_inclusion(proof, &self.body)?;
                verify_checkpoint(&proof.checkpoint, proof, &log.key, &self.log_id)?;
                logged.proof_checked = true;
            }
            None if need_proof => return Err("the log entry has no inclusion proof".into()),
            None => {}
        }
        Ok(logged)
    }
}

fn node(left: &[u8], right: &[u8]) -> Vec<u8> {
    let mut h = Sha256::new();
    h.update([1]);
    h.update(left);
    h.update(right);
    h.finalize().to_vec()
}

/// RFC 9162 §2.1.3.2: the root the proof leads to from the leaf must be the proof's root.
fn verify_inclusion(proof: &Proof, body: &[u8]) -> Result<(), String> {
    let bad = |why: &str| Err(format!("the inclusion proof does not verify: {why}"));
    if proof.log_index < 0 || proof.tree_size <= 0 || proof.log_index >= proof.tree_size {
        return bad("its index is outside its tree");
    }
    let mut hash = {
        let mut h = Sha256::new();
        h.update([0]);
        h.update(body);
        h.finalize().to_vec()
    };
    let (mut fn_, mut sn) = (proof.log_index as u64, proof.tree_size as u64 - 1);
    for p in &proof.hashes {
        if p.len() != 32 {
            return bad("a hash is not 32 bytes");
        }
        if sn == 0 {
            return bad("it is longer than its tree is deep");
        }
        if fn_ & 1 == 1 || fn_ == sn {
            hash = node(p, &hash);
            if fn_ & 1 == 0 {
                while fn_ & 1 == 0 && fn_ != 0 {
                    fn_ >>= 1;
                    sn >>= 1;
                }
            }
        } else {
            hash = node(&hash, p);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    if sn != 0 {
        return bad("it is shorter than its tree is deep");
    }
    if hash != proof.root_hash {
        return bad("it leads to another root hash");
    }
    Ok(())
}

/// A checkpoint is a signed note (C2SP signed-note): origin, tree size and root hash lines,
/// optional extension lines, a blank line, then `— NAME BASE64(KEYHINT ‖ SIGNATURE)` lines.
/// One signature by the log's key must verify over the note's text.
fn verify_checkpoint(checkpoint: &str, proof: &Proof, key: &PublicKey, log_id: &[u8]) -> Result<(), String> {
    let bad = |why: String| Err(format!("the checkpoint {why}"));
    let Some(split) = checkpoint.find("\n\n") else {
        return bad("has no signatures (no blank line after its text)".into());
    };
    let (text, signatures) = (&checkpoint[..=split], &checkpoint[split + 2..]);
    let mut lines = text.lines();
    let (origin, size, root) = (lines.next(), lines.next(), lines.next());
    let (Some(origin), Some(size), Some(root)) = (origin, size, root) else {
        return bad("lacks its origin, size or root hash line".into());
    };
    if origin.is_empty() {
        return bad("has an empty origin".into());
    }
    if size.parse::<i64>().ok() != Some(proof.tree_size) {
        return bad(format!(
            "is of a tree of {size:?} entries, not the proof's {}",
            proof.tree_size
        ));
    }
    if b64(root, "checkpoint root").ok().as_deref() != Some(proof.root_hash.as_slice()) {
        return bad("names another root hash than the proof".into());
    }
    let hint = &log_id[..log_id.len().min(4)];
    for line in signatures.lines() {
        let Some(rest) = line.strip_prefix("\u{2014} ") else {
            continue;
        };
        let Some((_, encoded)) = rest.rsplit_once(' ') else {
            continue;
        };
        let Ok(raw) = base64::engine::general_purpose::STANDARD.decode(encoded) else {
            continue;
        };
        if raw.len() > 4 && &raw[..4] == hint && key.verify(text.as_bytes(), &raw[4..]) {
            return Ok(());
        }
    }
    bad("is not signed by the log's key".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(proof_hashes: usize, checkpoint: &str) -> serde_json::Value {
        serde_json::json!({
            "logIndex": "1",
            "logId": {"keyId": "AAAA"},
            "kindVersion": {"kind": "hashedrekord", "version": "0.0.1"},
            "integratedTime": "1700000000",
            "canonicalizedBody": "e30=",
            "inclusionProof": {
                "logIndex": "1",
                "treeSize": "2",
                "rootHash": "AAAA",
                "hashes": vec!["AAAA"; proof_hashes],
                "checkpoint": {"envelope": checkpoint},
            },
        })
    }

    #[test]
    fn absurd_proofs_checkpoints_and_indexes_are_refused_before_use() {
        assert!(Entry::parse(&entry(64, "x")).is_ok());
        let deep = Entry::parse(&entry(65, "x")).unwrap_err();
        assert!(deep.contains("65 hashes"), "{deep}");
        let huge = Entry::parse(&entry(1, &"x".repeat(MAX_CHECKPOINT + 1))).unwrap_err();
        assert!(huge.contains("checkpoint larger"), "{huge}");
        let mut negative = entry(1, "x");
        negative["logIndex"] = "-1".into();
        assert!(Entry::parse(&negative).unwrap_err().contains("negative"));
        let mut no_body = entry(1, "x");
        no_body["canonicalizedBody"] = "".into();
        assert!(Entry::parse(&no_body).unwrap_err().contains("no body"));
    }

    #[test]
    fn an_inclusion_proof_leads_to_its_root_or_is_refused() {
        // A tree of two leaves: the root is H(1 ‖ H(0 ‖ a) ‖ H(0 ‖ b)).
        let leaf = |data: &[u8]| {
            let mut h = Sha256::new();
            h.update([0]);
            h.update(data);
            h.finalize().to_vec()
        };
        let root = node(&leaf(b"a"), &leaf(b"b"));
        let proof = |index, hashes: Vec<Vec<u8>>| Proof {
            log_index: index,
            tree_size: 2,
            root_hash: root.clone(),
            hashes,
            checkpoint: String::new(),
        };
        verify_inclusion(&proof(0, vec![leaf(b"b")]), b"a").unwrap();
        verify_inclusion(&proof(1, vec![leaf(b"a")]), b"b").unwrap();
        assert!(verify_inclusion(&proof(0, vec![leaf(b"b")]), b"c").is_err());
        assert!(verify_inclusion(&proof(0, vec![]), b"a").is_err());
        assert!(verify_inclusion(&proof(0, vec![leaf(b"b"), leaf(b"b")]), b"a").is_err());
        assert!(verify_inclusion(&proof(2, vec![leaf(b"b")]), b"a").is_err());
    }
}
