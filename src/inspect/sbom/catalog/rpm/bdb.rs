//! The values of a Berkeley DB hash database (rpm's `Packages` before rpm 4.16: RHEL ≤ 8,
//! CentOS 7, Amazon Linux 2): every hash page's key/data pairs, large values gathered from their
//! overflow page chains. Read-only and bounded by the file: no page outside it, no chain longer
//! than the database, no value larger than the file.

/// Hash database magic, in the metadata page at byte 12 (either byte order).
const HASH_MAGIC: u32 = 0x0006_1561;
const PAGE_HEADER: usize = 26;
// Page types (db_page.h).
const P_HASH_UNSORTED: u8 = 2;
const P_OVERFLOW: u8 = 7;
const P_HASH: u8 = 13;
// Hash item types.
const H_KEYDATA: u8 = 1;
const H_OFFPAGE: u8 = 3;

struct Db<'a> {
    bytes: &'a [u8],
    big_endian: bool,
    page_size: usize,
    pages: usize,
}

impl<'a> Db<'a> {
    fn array<const N: usize>(&self, at: usize) -> Option<[u8; N]> {
        self.bytes.get(at..at.checked_add(N)?)?.try_into().ok()
    }

    fn u32_at(&self, at: usize) -> Option<u32> {
        let b = self.array(at)?;
        Some(if self.big_endian {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        })
    }

    fn u16_at(&self, at: usize) -> Option<u16> {
        let b = self.array(at)?;
        Some(if self.big_endian {
            u16::from_be_bytes(b)
        } else {
            u16::from_le_bytes(b)
        })
    }

    fn page(&self, pgno: usize) -> Result<&'a [u8], String> {
        let start = pgno
            .checked_mul(self.page_size)
            .filter(|s| pgno < self.pages && s + self.page_size <= self.bytes.len())
            .ok_or_else(|| format!("page {pgno} is outside the {}-byte file", self.bytes.len()))?;
        Ok(&self.bytes[start..start + self.page_size])
    }

    /// A value stored on overflow pages: `len` bytes from page `pgno` on.
    fn overflow(&self, mut pgno: usize, len: usize) -> Result<Vec<u8>, String> {
        if len > self.bytes.len() {
            return Err(format!("a value of {len} bytes cannot fit in the file"));
        }
        let mut out = Vec::with_capacity(len);
        // Each page is visited once at most: a longer chain is a loop.
        for _ in 0..self.pages {
            let page = self.page(pgno)?;
            let base = pgno * self.page_size;
            if page[25] != P_OVERFLOW {
                return Err(format!("page {pgno} of an overflow chain has type {}", page[25]));
            }
            // On an overflow page the free-space offset field holds the bytes stored there.
            let here = self.u16_at(base + 22).unwrap_or_default() as usize;
            let chunk = page
                .get(PAGE_HEADER..PAGE_HEADER + here)
                .ok_or_else(|| format!("overflow page {pgno} claims {here} bytes"))?;
            out.extend_from_slice(chunk);
            if out.len() > len {
                return Err(format!(
                    "overflow chain from page {pgno} is longer than its {len} bytes"
                ));
            }
            match self.u32_at(base + 16).unwrap_or_default() as usize {
                0 if out.len() == len => return Ok(out),
                0 => return Err(format!("overflow chain ends after {} of {len} bytes", out.len())),
                next => pgno = next,
            }
        }
        Err("overflow chain loops".into())
    }

    /// Item `i` of a hash page: its type, where it starts in the page, its bytes. Items fill
    /// the page from its end, so an item ends where the one before it starts.
    fn item(&self, page: &'a [u8], base: usize, i: usize) -> Result<(u8, usize, &'a [u8]), String> {
        let offset_of = |k: usize| self.u16_at(base + PAGE_HEADER + 2 * k).map(usize::from);
        let start = offset_of(i).ok_or("item index outside the page")?;
        let end = if i == 0 {
            self.page_size
        } else {
            offset_of(i - 1).ok_or("item index outside the page")?
        };
        match page.get(start..end) {
            Some(item) if !item.is_empty() => Ok((item[0], start, item)),
            _ => Err(format!("item {i} spans bytes {start}..{end} of the page")),
        }
    }
}

/// Every (key, value) of the hash database, or why the file is not one. Broken pairs are
/// reported with their page and the rest is read.
#[allow(clippy::type_complexity)]
pub fn values(bytes: &[u8]) -> Result<Vec<(String, Result<Vec<u8>, String>)>, String> {
    let magic = |big: bool| {
        let b: [u8; 4] = bytes.get(12..16)?.try_into().ok()?;
        Some(if big {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        })
    };
    let big_endian = match (magic(false), magic(true)) {
        (Some(HASH_MAGIC), _) => false,
        (_, Some(HASH_MAGIC)) => true,
        _ => return Err("not a Berkeley DB hash database (no hash magic)".into()),
    };
    let mut db = Db {
        bytes,
        big_endian,
        page_size: 0,
        pages: 0,
    };
    let page_size = db.u32_at(20).unwrap_or_default() as usize;
    if !(512..=65536).contains(&page_size) || !page_size.is_power_of_two() {
        return Err(format!("page size {page_size} is not one Berkeley DB uses"));
    }
    if bytes.get(24).is_some_and(|alg| *alg != 0) {
        return Err("the database is encrypted".into());
    }
    let last = db.u32_at(32).unwrap_or_default() as usize;
    db.page_size = page_size;
    db.pages = (bytes.len() / page_size).min(last.saturating_add(1));
    let mut out = Vec::new();
    for pgno in 1..db.pages {
        let page = db.page(pgno)?;
        if page[25] != P_HASH && page[25] != P_HASH_UNSORTED {
            continue;
        }
        let base = pgno * page_size;
        let entries = db.u16_at(base + 20).unwrap_or_default() as usize;
        for pair in 0..entries / 2 {
            let at = format!("page {pgno}, pair {pair}");
            let key = match db.item(page, base, 2 * pair) {
                Ok((H_KEYDATA, _, item)) => &item[1..],
                Ok((kind, _, _)) => {
                    out.push((at, Err(format!("key of type {kind}, which rpm does not write"))));
                    continue;
                }
                Err(e) => {
                    out.push((at, Err(e)));
                    continue;
                }
            };
            // Key 0 holds rpm's counter of package numbers, not a package.
            if key == [0; 4] {
                continue;
            }
            let value = db
                .item(page, base, 2 * pair + 1)
                .and_then(|(kind, start, item)| match kind {
                    H_KEYDATA => Ok(item[1..].to_vec()),
                    // type, 3 unused bytes, first overflow page, total length.
                    H_OFFPAGE => match (db.u32_at(base + start + 4), db.u32_at(base + start + 8)) {
                        (Some(first), Some(len)) if item.len() >= 12 => db.overflow(first as usize, len as usize),
                        _ => Err("overflow reference cut short".into()),
                    },
                    other => Err(format!("value of type {other}, which rpm does not write")),
                });
            out.push((format!("{} ({at})", key_name(key, big_endian)), value));
        }
    }
    Ok(out)
}

/// rpm's keys are package numbers in the database's byte order.
fn key_name(key: &[u8], big_endian: bool) -> String {
    match <[u8; 4]>::try_from(key) {
        Ok(b) if big_endian => format!("record {}", u32::from_be_bytes(b)),
        Ok(b) => format!("record {}", u32::from_le_bytes(b)),
        Err(_) => format!("key of {} bytes", key.len()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A little-endian hash database of 512-byte pages: one pair on page 1 whose value starts an
    /// overflow chain at page 2 of `len` bytes; page 2 holds 10 bytes and links to `next`.
    fn db(len: u32, next: u32) -> Vec<u8> {
        let mut b = vec![0u8; 3 * 512];
        b[12..16].copy_from_slice(&HASH_MAGIC.to_le_bytes());
        b[20..24].copy_from_slice(&512u32.to_le_bytes());
        b[32..36].copy_from_slice(&2u32.to_le_bytes());
        let p1 = 512;
        b[p1 + 20..p1 + 22].copy_from_slice(&2u16.to_le_bytes());
        b[p1 + 25] = P_HASH;
        // Key (5 bytes) at the page's end, then the 12-byte overflow reference before it.
        b[p1 + 26..p1 + 28].copy_from_slice(&507u16.to_le_bytes());
        b[p1 + 28..p1 + 30].copy_from_slice(&495u16.to_le_bytes());
        b[p1 + 507] = H_KEYDATA;
        b[p1 + 508..p1 + 512].copy_from_slice(&1u32.to_le_bytes());
        b[p1 + 495] = H_OFFPAGE;
        b[p1 + 499..p1 + 503].copy_from_slice(&2u32.to_le_bytes());
        b[p1 + 503..p1 + 507].copy_from_slice(&len.to_le_bytes());
        let p2 = 1024;
        b[p2 + 16..p2 + 20].copy_from_slice(&next.to_le_bytes());
        b[p2 + 22..p2 + 24].copy_from_slice(&10u16.to_le_bytes());
        b[p2 + 25] = P_OVERFLOW;
        b[p2 + 26..p2 + 36].copy_from_slice(b"0123456789");
        b
    }

    #[test]
    fn pairs_and_hostile_chains() {
        let ok = values(&db(10, 0)).unwrap();
        assert_eq!(ok.len(), 1);
        assert_eq!(ok[0].0, "record 1 (page 1, pair 0)");
        assert_eq!(ok[0].1.as_deref(), Ok(&b"0123456789"[..]));
        let err = |bytes: Vec<u8>| values(&bytes).unwrap()[0].1.clone().unwrap_err();
        assert!(err(db(100, 2)).contains("loops"));
        assert!(err(db(u32::MAX, 0)).contains("cannot fit"));
        assert!(err(db(100, 0)).contains("ends after 10 of 100 bytes"));
        assert!(err(db(100, 77)).contains("page 77 is outside"));
        let mut bad = db(10, 0);
        bad[20..24].copy_from_slice(&1000u32.to_le_bytes());
        assert!(values(&bad).unwrap_err().contains("page size 1000"));
        assert!(values(b"short").unwrap_err().contains("no hash magic"));
    }
}
