//! Go build information (`.go.buildinfo`, Go 1.18+): the Go version, the main module, every
//! dependency with its version and checksum, and the build settings (`-buildmode`, `CGO_ENABLED`,
//! `-trimpath`…), as `go version -m` prints them.

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GoModule {
    pub path: String,
    pub version: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub sum: String,
    /// A `=>` replacement of this module.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replaced_by: Option<Box<GoModule>>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct GoBuildInfo {
    pub go_version: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub main: Option<GoModule>,
    pub deps: Vec<GoModule>,
    /// `build` lines: key → value, in file order.
    pub settings: Vec<(String, String)>,
}

const MAGIC: &[u8] = b"\xff Go buildinf:";
const HEADER: usize = 32;
const FLAG_INLINE_STRINGS: u8 = 2;

fn uvarint(data: &[u8]) -> Option<(u64, usize)> {
    let mut value = 0u64;
    for (i, &b) in data.iter().enumerate().take(10) {
        value |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return Some((value, i + 1));
        }
    }
    None
}

/// A length-prefixed string; the length is checked against what is left before it is used.
fn inline_string(data: &[u8]) -> Result<(&[u8], &[u8]), String> {
    let (len, used) = uvarint(data).ok_or("bad string length")?;
    let rest = &data[used..];
    let len = usize::try_from(len).map_err(|_| "string length overflows")?;
    if len > rest.len() {
        return Err(format!("a string of {len} bytes runs past the section's end"));
    }
    Ok((&rest[..len], &rest[len..]))
}

pub fn parse(section: &[u8]) -> Result<GoBuildInfo, String> {
    if !section.starts_with(MAGIC) || section.len() < HEADER {
        return Err("no buildinfo magic".into());
    }
    let flags = section[15];
    if flags & FLAG_INLINE_STRINGS == 0 {
        return Err("buildinfo of Go before 1.18 (pointer format) is not read".into());
    }
    let (version, rest) = inline_string(&section[HEADER..])?;
    let (modinfo, _) = inline_string(rest)?;
    let mut info = GoBuildInfo {
        go_version: String::from_utf8_lossy(version).into_owned(),
        ..Default::default()
    };
    // The module text is framed by two 16-byte sentinels.
    let modinfo = if modinfo.len() >= 33 && modinfo[modinfo.len() - 17] == b'\n' {
        &modinfo[16..modinfo.len() - 16]
    } else {
        modinfo
    };
    let text = String::from_utf8_lossy(modinfo);
    let module = |fields: &[&str]| GoModule {
        path: fields.first().copied().unwrap_or_default().to_owned(),
        version: fields.get(1).copied().unwrap_or_default().to_owned(),
        sum: fields.get(2).copied().unwrap_or_default().to_owned(),
        replaced_by: None,
    };
    for line in text.lines() {
        let fields: Vec<&str> = line.split('\t').collect();
        match fields.first().copied() {
            Some("path") => info.path = fields.get(1).copied().unwrap_or_default().to_owned(),
            Some("mod") => info.main = Some(module(&fields[1..])),
            Some("dep") => info.deps.push(module(&fields[1..])),
            Some("=>") => {
                let replacement = Box::new(module(&fields[1..]));
                if let Some(last) = info.deps.last_mut() {
                    last.replaced_by = Some(replacement);
                } else if let Some(main) = info.main.as_mut() {
                    main.replaced_by = Some(replacement);
                }
            }
            Some("build") => {
                let setting = fields.get(1).copied().unwrap_or_default();
                let (k, v) = setting.split_once('=').unwrap_or((setting, ""));
                info.settings.push((k.to_owned(), v.to_owned()));
            }
            _ => {}
        }
    }
    Ok(info)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn section(version: &str, modinfo: &str) -> Vec<u8> {
        let mut s = MAGIC.to_vec();
        s.extend_from_slice(&[8, FLAG_INLINE_STRINGS]);
        s.resize(HEADER, 0);
        for text in [version.as_bytes().to_vec(), {
            let mut m = vec![0x30u8; 16];
            m.extend_from_slice(modinfo.as_bytes());
            m.extend_from_slice(&[0x31u8; 16]);
            m
        }] {
            let mut len = text.len();
            while len >= 0x80 {
                s.push((len as u8) | 0x80);
                len >>= 7;
            }
            s.push(len as u8);
            s.extend_from_slice(&text);
        }
        s
    }

    #[test]
    fn reads_modules_and_settings() {
        let info = parse(&section(
            "go1.22.1",
            "path\texample.com/app\nmod\texample.com/app\t(devel)\t\ndep\tgolang.org/x/sys\tv0.1.0\th1:abc=\n=>\t../sys\t(devel)\t\nbuild\tCGO_ENABLED=0\nbuild\t-trimpath=true\n",
        ))
        .unwrap();
        assert_eq!(info.go_version, "go1.22.1");
        assert_eq!(info.path, "example.com/app");
        assert_eq!(info.deps[0].version, "v0.1.0");
        assert_eq!(info.deps[0].replaced_by.as_ref().unwrap().path, "../sys");
        assert_eq!(
            info.settings,
            [("CGO_ENABLED".into(), "0".into()), ("-trimpath".into(), "true".into())]
        );
    }

    #[test]
    fn corrupt_sections_are_errors_not_panics() {
        assert!(parse(b"").is_err());
        let mut s = section("go1.22", "x");
        s[HEADER] = 0xff; // a varint that never ends within bounds
        s.truncate(HEADER + 3);
        assert!(parse(&s).is_err());
        let mut s = MAGIC.to_vec();
        s.extend_from_slice(&[8, FLAG_INLINE_STRINGS]);
        s.resize(HEADER, 0);
        s.extend_from_slice(&[0xff, 0xff, 0xff, 0xff, 0x0f]); // 4 GiB claimed
        assert!(parse(&s).unwrap_err().contains("past the section"));
    }
}
