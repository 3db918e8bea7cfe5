//! Lays the parts out as LinuxKit's `Build` does (src/cmd/linuxkit/moby/build/build.go and
//! image.go, v1.8.2): the kernel at boot/ with its modules at /, init images merged at / (their
//! apk databases unioned), volumes, each container's bundle, the files section and the SBOM, with
//! LinuxKit's exclude, replace and touch lists applied to every image.
//!
//! Where LinuxKit is wrong it is not copied: opaque whiteouts are honoured (by the flattening),
//! a files entry never changes an existing parent folder, each path is written once, and nothing
//! is written through a symlink.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

use crate::config::model::{File as FileSpec, VolumeFormat};
use crate::config::validate::parse_mode;
use crate::config::{FILE_SOURCE_LIMIT, FileSourceError, Loaded};
use crate::effective::oci::to_go_json;
use crate::effective::{VOLUMES_DIR, allocate_ids, numeric_id};
use crate::image::Rootfs;
use crate::image::rootfs::{ContentRef, Entry, Kind};
use crate::image::tarstream::{self, MemberKind, TarStream};
use crate::inspect::files_section::{FilesSection, SourceFailure};

use super::spool::Spool;
use super::tree::{Content, Node, NodeKind, Origin, Tree};
use super::{BuildError, Code};
use crate::plan::{ImageUse, Plan};

/// One unpacked image: its files, and where the spool keeps their bytes.
pub struct Unpacked<'a> {
    pub image: &'a ImageUse,
    pub rootfs: &'a Rootfs,
    pub stored: &'a BTreeMap<ContentRef, Content>,
}

/// Dropped from every image (`exclude` in image.go): files docker export adds.
const EXCLUDE: [&str; 6] = [
    ".dockerenv",
    "Dockerfile",
    "dev/console",
    "dev/pts",
    "dev/shm",
    "etc/hostname",
];

/// LinuxKit's `replace["etc/hosts"]`.
const HOSTS: &str = "127.0.0.1       localhost
::1     localhost ip6-localhost ip6-loopback
fe00::0 ip6-localnet
ff00::0 ip6-mcastprefix
ff02::1 ip6-allnodes
ff02::2 ip6-allrouters
";

/// LinuxKit's `replace["etc/resolv.conf"]`, for container images.
const RESOLV_STUB: &str = "\n# no resolv.conf configured\n";

/// In init images and volumes, resolv.conf points somewhere writable (`resolvconfSymlink`).
const RESOLV_LINK: &str = "/run/resolvconf/resolv.conf";

const APK_DB: &str = "lib/apk/db/installed";

/// Largest apk database read for the union (a real one is a few hundred KiB).
const APK_DB_LIMIT: u64 = 64 << 20;

/// Everything `assemble` needs besides the images.
pub struct Inputs<'a> {
    pub loaded: &'a Loaded,
    /// Where the images' blobs are (volumes in `format: oci` copy them).
    pub store: &'a crate::image::Store,
    pub plan: &'a Plan,
    pub unpacked: &'a [Unpacked<'a>],
    /// The merged SPDX document of every image, written at /sbom.spdx.json.
    pub sbom: Option<&'a [u8]>,
    pub epoch: u64,
    /// The files section as it was read and judged, and where the spool holds each source's
    /// bytes (`ContentRef { layer: 0, ordinal: index }`): a source is never read again here.
    pub files: &'a FilesSection,
    pub sources: &'a BTreeMap<ContentRef, Content>,
}

pub fn assemble(inputs: &Inputs, spool: &mut Spool) -> Result<Tree, BuildError> {
    let mut tree = Tree::new(inputs.epoch);
    let config = &inputs.loaded.config;
    let find = |location: &str| inputs.unpacked.iter().find(|u| u.image.location == location);

    if let Some(kernel) = find("kernel") {
        add_kernel(&mut tree, kernel, config.kernel.as_ref(), spool)?;
    }

    let mut apk_dbs = Vec::new();
    for i in 0..config.init.as_ref().map_or(0, Vec::len) {
        if let Some(init) = find(&format!("init[{i}]")) {
            add_image(&mut tree, init, Some(RESOLV_LINK))?;
            if let Some(Node {
                kind: NodeKind::File(content),
                ..
            }) = tree.get(APK_DB)
            {
                apk_dbs.push(content.clone());
            }
        }
    }
    if apk_dbs.len() > 1 {
        let mut union = Vec::new();
        for db in &apk_dbs {
            read_bounded(spool, db, APK_DB_LIMIT, APK_DB, &mut union)?;
            union.extend_from_slice(b"\n\n");
        }
        tree.insert(
            APK_DB,
            Node::inline(union, 0o644, &Origin::new("LINUXKIT.apkinit", "init")),
        )?;
    }

    for (i, volume) in config.volumes.iter().flatten().enumerate() {
        let Some(name) = &volume.value.name else { continue };
        let location = format!("volume[{i}]");
        let base = format!("{}/{}", VOLUMES_DIR.trim_start_matches('/'), name.value);
        match (&volume.value.image, volume.value.format) {
            (Some(image), Some(VolumeFormat::Oci)) => {
                let resolved = inputs
                    .plan
                    .layouts
                    .iter()
                    .find(|(index, _)| *index == i)
                    .map(|(_, image)| image)
                    .ok_or_else(|| missing(&location))?;
                let origin = Origin::new(&image.value, &location);
                add_layout(
                    &mut tree,
                    &format!("{base}/lower"),
                    resolved,
                    inputs.store,
                    spool,
                    &origin,
                )?;
            }
            (Some(_), _) => {
                let unpacked = find(&location).ok_or_else(|| missing(&location))?;
                add_image(&mut tree, unpacked, Some(RESOLV_LINK))?;
            }
            (None, _) => make_dirs(&mut tree, &format!("{base}/lower"), &Origin::new("empty", &location))?,
        }
        let origin = Origin::new("linuxkit.volumes", &location);
        for dir in ["tmp", "merged"] {
            tree.insert(&format!("{base}/{dir}"), Node::dir(0o755, &origin))?;
        }
    }

    for c in &inputs.plan.containers {
        let location = format!("{}[{}]", c.section, c.index);
        let origin = Origin::new(&c.image, &location);
        let readonly = c.config.root.readonly;
        let own_copy = find(&location);
        match own_copy {
            Some(unpacked) => add_image(&mut tree, unpacked, None)?,
            None => make_dirs(&mut tree, &c.path, &origin)?,
        }
        tree.insert(
            &format!("{}/config.json", c.path),
            Node::inline(go_json(&c.config, &location, "config.json")?, 0o644, &origin),
        )?;
        if !readonly {
            tree.insert(&format!("{}/tmp", c.path), Node::dir(0o755, &origin))?;
        }
        if !readonly || own_copy.is_none() {
            tree.insert(&format!("{}/rootfs", c.path), Node::dir(0o755, &origin))?;
        }
        tree.insert(
            &format!("{}/runtime.json", c.path),
            Node::inline(go_json(&c.runtime, &location, "runtime.json")?, 0o644, &origin),
        )?;
    }

    add_files(&mut tree, inputs)?;

    if let Some(sbom) = &inputs.sbom {
        tree.insert(
            "sbom.spdx.json",
            Node::inline(sbom.to_vec(), 0o644, &Origin::new("linuxkit.sbom", "sbom")),
        )?;
    }
    Ok(tree)
}

/// A volume in `format: oci`: the image as an OCI image layout (LinuxKit's `ImageOCITar`) —
/// `oci-layout`, `index.json` naming its manifest for the build's platform, and the manifest,
/// config and layer blobs, each copied from the store and verified against its digest on the way.
fn add_layout(
    tree: &mut Tree,
    dir: &str,
    image: &crate::image::ResolvedImage,
    store: &crate::image::Store,
    spool: &mut Spool,
    origin: &Origin,
) -> Result<(), BuildError> {
    make_dirs(tree, &format!("{dir}/blobs/sha256"), origin)?;
    let parse = |digest: String| {
        digest
            .parse()
            .map_err(|e: crate::image::digest::BadDigest| BuildError::Input {
                code: Code::BadImageContent,
                what: format!("{} {}", origin.location, origin.source),
                message: e.to_string(),
                hint: "import the image again".into(),
            })
    };
    let mut digests = vec![
        image.manifest_digest.clone(),
        parse(image.manifest.config().digest().to_string())?,
    ];
    for layer in image.layers() {
        digests.push(parse(layer.digest().to_string())?);
    }
    let mut manifest_size = 0;
    for digest in &digests {
        let mut blob = store.open_blob(digest, None)?;
        let content = spool.append(&mut blob).map_err(|e| BuildError::Io {
            path: store.blob_path(digest).display().to_string(),
            source: e,
            hint: "the store's copy is corrupt, or the output disk is full: import the image again or free space"
                .into(),
        })?;
        if digest == &image.manifest_digest {
            manifest_size = content.len();
        }
        tree.insert(
            &format!("{dir}/blobs/sha256/{}", digest.hex()),
            Node::made(NodeKind::File(content), 0o644, origin),
        )?;
    }
    let media_type = image
        .manifest
        .media_type()
        .as_ref()
        .map_or("application/vnd.oci.image.manifest.v1+json".to_owned(), |m| {
            m.to_string()
        });
    let mut platform = serde_json::json!({"architecture": image.platform.architecture, "os": image.platform.os});
    if let Some(variant) = &image.platform.variant {
        platform["variant"] = variant.clone().into();
    }
    let index = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [{
            "mediaType": media_type,
            "digest": image.manifest_digest.to_string(),
            "size": manifest_size,
            "platform": platform,
        }],
    });
    let index = serde_json::to_vec_pretty(&index).map_err(|e| BuildError::Input {
        code: Code::Internal,
        what: dir.to_owned(),
        message: e.to_string(),
        hint: "report this as a sealkit bug".into(),
    })?;
    tree.insert(&format!("{dir}/index.json"), Node::inline(index, 0o644, origin))?;
    tree.insert(
        &format!("{dir}/oci-layout"),
        Node::inline(&br#"{"imageLayoutVersion":"1.0.0"}"#[..], 0o644, origin),
    )?;
    Ok(())
}

/// A bundle document as LinuxKit writes it (Go's `json.MarshalIndent`).
fn go_json<T: serde::Serialize>(value: &T, location: &str, what: &str) -> Result<Vec<u8>, BuildError> {
    to_go_json(value).map_err(|e| BuildError::Input {
        code: Code::Internal,
        what: format!("{location} {what}"),
        message: e.to_string(),
        hint: "report this as a sealkit bug".into(),
    })
}

fn missing(location: &str) -> BuildError {
    BuildError::Input {
        code: Code::Internal,
        what: location.to_owned(),
        message: "the image was not unpacked".into(),
        hint: "report this as a sealkit bug".into(),
    }
}

/// Each folder of `path`, made 0755 and root-owned (LinuxKit's `tarPrefix`).
fn make_dirs(tree: &mut Tree, path: &str, origin: &Origin) -> Result<(), BuildError> {
    let mut end = 0;
    loop {
        let next = path[end..].find('/').map(|i| end + i);
        let dir = &path[..next.unwrap_or(path.len())];
        tree.insert(dir, Node::dir(0o755, origin))?;
        match next {
            Some(slash) => end = slash + 1,
            None => return Ok(()),
        }
    }
}

fn node_of(entry: &Entry, stored: &BTreeMap<ContentRef, Content>, origin: &Origin) -> Node {
    let kind = match &entry.kind {
        Kind::File => NodeKind::File(
            entry
                .content
                .and_then(|at| stored.get(&at).cloned())
                .unwrap_or(Content::Inline(Vec::new().into())),
        ),
        Kind::Dir => NodeKind::Dir,
        Kind::Symlink { target } => NodeKind::Symlink(target.clone()),
        Kind::Char { major, minor } => NodeKind::Char {
            major: *major,
            minor: *minor,
        },
        Kind::Block { major, minor } => NodeKind::Block {
            major: *major,
            minor: *minor,
        },
        Kind::Fifo => NodeKind::Fifo,
    };
    Node {
        kind,
        mode: entry.mode,
        uid: entry.uid,
        gid: entry.gid,
        mtime: entry.mtime,
        xattrs: entry.xattrs.clone(),
        origin: origin.clone(),
    }
}

/// A path as text. Names that are not UTF-8 are refused rather than rewritten: a lossy rewrite
/// could make two names one.
fn utf8<'a>(path: &'a Path, origin: &Origin) -> Result<&'a str, BuildError> {
    path.to_str().ok_or_else(|| BuildError::Input {
        code: Code::BadImageContent,
        what: format!("{} {}", origin.location, origin.source),
        message: format!("{} is not a UTF-8 name", path.display()),
        hint: "rename the file in the image: sealkit builds images whose names are UTF-8".into(),
    })
}

fn excluded(path: &str) -> bool {
    EXCLUDE
        .iter()
        .any(|e| path == *e || path.strip_prefix(e).is_some_and(|rest| rest.starts_with('/')))
}

/// An image's files below its prefix, filtered as LinuxKit's `ImageTar` does. `resolv` is the
/// symlink target resolv.conf becomes (init images and volumes), or `None` for the stub file.
fn add_image(tree: &mut Tree, unpacked: &Unpacked, resolv: Option<&str>) -> Result<(), BuildError> {
    let origin = Origin::new(&unpacked.image.reference, &unpacked.image.location);
    let prefix = &unpacked.image.prefix;
    if let Some(dir) = prefix.strip_suffix('/') {
        make_dirs(tree, dir, &origin)?;
    }
    let resolv_node = |template: Option<&Node>| match resolv {
        Some(target) => Node::made(NodeKind::Symlink(target.into()), 0o777, &origin),
        None => replaced(template, RESOLV_STUB, &origin),
    };
    for (path, entry) in &unpacked.rootfs.entries {
        let rel = utf8(path, &origin)?;
        if excluded(rel) {
            continue;
        }
        let mut node = node_of(entry, unpacked.stored, &origin);
        match rel {
            "etc/hosts" => node = replaced(Some(&node), HOSTS, &origin),
            "etc/resolv.conf" => node = resolv_node(Some(&node)),
            _ => {}
        }
        tree.insert(&format!("{prefix}{rel}"), node)?;
    }
    // LinuxKit's `touch`: what every image must have, made when it is missing.
    let touch = [
        ("dev", Node::dir(0o755, &origin)),
        ("dev/pts", Node::dir(0o755, &origin)),
        ("dev/shm", Node::dir(0o755, &origin)),
        ("etc", Node::dir(0o755, &origin)),
        ("etc/hosts", Node::inline(HOSTS.as_bytes(), 0o644, &origin)),
        (
            "etc/mtab",
            Node::made(NodeKind::Symlink("/proc/mounts".into()), 0o777, &origin),
        ),
        ("etc/resolv.conf", resolv_node(None)),
        ("proc", Node::dir(0o755, &origin)),
        ("sys", Node::dir(0o755, &origin)),
    ];
    for (rel, node) in touch {
        let path = format!("{prefix}{rel}");
        if tree.get(&path).is_none() {
            tree.insert(&path, node)?;
        }
    }
    Ok(())
}

/// A file LinuxKit rewrites: its own bytes, with the image's mode and owner if it had one.
fn replaced(template: Option<&Node>, contents: &str, origin: &Origin) -> Node {
    let mut node = Node::inline(contents.as_bytes(), 0o644, origin);
    if let Some(t) = template.filter(|t| matches!(t.kind, NodeKind::File(_))) {
        node.mode = t.mode;
        node.uid = t.uid;
        node.gid = t.gid;
    }
    node
}

/// The kernel image's parts (LinuxKit's `kernelFilter`): its kernel binary as boot/kernel, the
/// command line as boot/cmdline, its module tarball unpacked at /, microcode as boot/ucode.cpio.
fn add_kernel(
    tree: &mut Tree,
    unpacked: &Unpacked,
    kernel: Option<&crate::config::model::Kernel>,
    spool: &mut Spool,
) -> Result<(), BuildError> {
    let origin = Origin::new(&unpacked.image.reference, "kernel");
    let what = format!("kernel image {}", unpacked.image.reference);
    let binary = kernel
        .and_then(|k| k.binary.as_ref())
        .map_or("kernel", |b| b.value.as_str());
    let modules = match kernel.and_then(|k| k.tar.as_deref()) {
        None => Some("kernel.tar"),
        Some("none" | "") => None,
        Some(name) => Some(name),
    };
    let ucode = kernel.and_then(|k| k.ucode.as_deref()).filter(|u| !u.is_empty());
    let file = |name: &str, field: &str| -> Result<(&Entry, Content), BuildError> {
        let entry = unpacked.rootfs.entries.get(Path::new(name));
        match entry {
            Some(e @ Entry { kind: Kind::File, .. }) => Ok((
                e,
                e.content
                    .and_then(|at| unpacked.stored.get(&at).cloned())
                    .ok_or_else(|| missing("kernel"))?,
            )),
            _ => Err(BuildError::Input {
                code: Code::BadImageContent,
                what: what.clone(),
                message: format!("has no file /{name}"),
                hint: format!(
                    "set kernel.{field} to the file the image holds (`sealkit image inspect --files` lists them)"
                ),
            }),
        }
    };
    let (entry, content) = file(binary, "binary")?;
    tree.insert("boot", Node::dir(0o755, &origin))?;
    let cmdline = kernel.and_then(|k| k.cmdline.clone()).unwrap_or_default();
    tree.insert("boot/cmdline", Node::inline(cmdline.into_bytes(), 0o644, &origin))?;
    tree.insert("boot/kernel", Node::made(NodeKind::File(content), entry.mode, &origin))?;
    if let Some(name) = modules {
        let (_, content) = file(name, "tar")?;
        add_tar_members(tree, spool, &content, &origin, &what)?;
    }
    if let Some(name) = ucode {
        let (entry, content) = file(name, "ucode")?;
        tree.insert(
            "boot/ucode.cpio",
            Node::made(NodeKind::File(content), entry.mode, &origin),
        )?;
    }
    Ok(())
}

/// Unpacks a tar the spool holds (the kernel's modules) at the root. Its members' bytes stay in
/// the spool: they are ranges of the tar's own range.
fn add_tar_members(
    tree: &mut Tree,
    spool: &Spool,
    tarball: &Content,
    origin: &Origin,
    what: &str,
) -> Result<(), BuildError> {
    let Content::Spool { offset: base, .. } = tarball else {
        return Err(missing("kernel"));
    };
    let bad = |path: &str, message: String| BuildError::Input {
        code: Code::BadImageContent,
        // No empty segment when no member is known (`kernel.tar: : …`).
        what: if path.is_empty() {
            format!("{what}: kernel.tar")
        } else {
            format!("{what}: kernel.tar: {path}")
        },
        message,
        hint: "rebuild the kernel image: its module tarball is corrupt or hostile".into(),
    };
    let reader = spool
        .read(tarball)
        .map_err(|e| bad("", format!("cannot read it back: {e}")))?;
    // The layers' reader, so that the modules are read by the same rules as every layer: no NUL
    // in names, names within Linux's limits, a tar ending early accepted only after a whole member.
    let mut tar = TarStream::new(reader);
    let mut contents: BTreeMap<String, Content> = BTreeMap::new();
    while let Some(member) = tar
        .next_member()
        .map_err(|e| bad(&tarstream::shown(&e.entry), e.message))?
    {
        let raw = &member.name;
        let Some(clean) = crate::image::resolve::clean_member_path(raw).filter(|_| !raw.is_absolute()) else {
            return Err(bad(&tarstream::shown(raw), "the member leaves the root".into()));
        };
        let path = utf8(&clean, origin)?.to_owned();
        if path.is_empty() {
            continue;
        }
        let link = || -> Result<String, BuildError> {
            let target = member.link.as_ref().filter(|l| !l.as_os_str().is_empty());
            let target = target.ok_or_else(|| bad(&path, "a link without a target".into()))?;
            Ok(utf8(target, origin)?.to_owned())
        };
        let kind = match member.kind {
            MemberKind::Regular => {
                let content = Spool::content(base + tar.offset(), member.size);
                contents.insert(path.clone(), content.clone());
                NodeKind::File(content)
            }
            MemberKind::Dir => NodeKind::Dir,
            MemberKind::Symlink => NodeKind::Symlink(link()?),
            MemberKind::HardLink => {
                let target = clean_path(&link()?);
                NodeKind::File(contents.get(&target).cloned().ok_or_else(|| {
                    bad(
                        &path,
                        format!("a hard link to {target}, which comes before it in no entry"),
                    )
                })?)
            }
            MemberKind::Char | MemberKind::Block | MemberKind::Fifo => {
                return Err(bad(
                    &path,
                    "a device or FIFO: a module tarball holds files, folders and links only".into(),
                ));
            }
        };
        let node = Node {
            kind,
            mode: member.mode & 0o7777,
            uid: member.uid,
            gid: member.gid,
            mtime: member.mtime,
            xattrs: Default::default(),
            origin: origin.clone(),
        };
        tree.insert(&path, node)?;
    }
    Ok(())
}

fn clean_path(path: &str) -> String {
    crate::image::resolve::clean_member_path(Path::new(path))
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn read_bounded(spool: &Spool, content: &Content, limit: u64, what: &str, out: &mut Vec<u8>) -> Result<(), BuildError> {
    if content.len() > limit {
        return Err(BuildError::Input {
            code: Code::BadImageContent,
            what: what.to_owned(),
            message: format!("is {} bytes, more than the {limit} read", content.len()),
            hint: "an apk database this large is not a real one: check the init images".into(),
        });
    }
    spool
        .read(content)
        .and_then(|mut r| r.read_to_end(out))
        .map_err(|e| BuildError::Io {
            path: spool.path().display().to_string(),
            source: e,
            hint: "the build's scratch file could not be read back: check the output disk".into(),
        })?;
    Ok(())
}

/// The `files` section, in order. A file's missing parent folders take its mode (with the
/// search bits LinuxKit adds) and owner; existing ones are left as they are.
fn add_files(tree: &mut Tree, inputs: &Inputs) -> Result<(), BuildError> {
    let loaded = inputs.loaded;
    let ids = allocate_ids(&loaded.config);
    for (i, spec) in loaded.config.files.iter().flatten().enumerate() {
        let f: &FileSpec = &spec.value;
        let file = loaded.origins.file("files", i);
        let what = format!("{}: files[{i}]", file.display());
        let bad = |message: String, hint: &str| BuildError::Input {
            code: Code::BadFileEntry,
            what: what.clone(),
            message,
            hint: hint.to_owned(),
        };
        let Some(path) = &f.path else { continue };
        let path = path.value.trim_start_matches('/').trim_end_matches('/').to_owned();
        let directory = f.directory == Some(true);
        let mode = match &f.mode {
            Some(m) => parse_mode(&m.value).map_err(|m| bad(m, "write the mode as an octal string, e.g. \"0644\""))?,
            None if directory => 0o700,
            None => 0o600,
        };
        let id = |id: &Option<crate::config::model::S<crate::config::model::Id>>| {
            id.as_ref()
                .map_or(Ok(0), |id| numeric_id(&id.value, &ids))
                .map_err(|m| bad(m, "use a number, root, or a container name"))
        };
        let (uid, gid) = (id(&f.uid)?, id(&f.gid)?);
        let kind = if directory {
            NodeKind::Dir
        } else if let Some(target) = &f.symlink {
            NodeKind::Symlink(target.clone())
        } else if let Some(contents) = &f.contents {
            NodeKind::File(Content::Inline(contents.as_bytes().into()))
        } else if let Some(source) = &f.source {
            let host = crate::config::file_source_path(source, file);
            let unread = || BuildError::Input {
                code: Code::Internal,
                what: what.clone(),
                message: "its source was not read with the files section".into(),
                hint: "report this as a sealkit bug".into(),
            };
            let at = ContentRef {
                layer: 0,
                ordinal: i as u64,
            };
            match inputs.files.sources.get(&i).ok_or_else(unread)? {
                Ok(()) => NodeKind::File(inputs.sources.get(&at).cloned().ok_or_else(unread)?),
                Err(SourceFailure::Open(FileSourceError::Unreadable(_))) if f.optional == Some(true) => continue,
                Err(SourceFailure::Open(FileSourceError::Unreadable(e))) => {
                    return Err(bad(
                        format!("source {}: {e}", host.display()),
                        "fix the path (relative paths start at the configuration's folder), or set optional: true",
                    ));
                }
                Err(SourceFailure::Open(FileSourceError::NotRegular(kind))) => {
                    return Err(bad(
                        format!(
                            "source {} is {}, not a regular file",
                            host.display(),
                            super::output::kind_of(*kind)
                        ),
                        "name a regular file (or a symlink to one): LinuxKit copies its bytes into the image",
                    ));
                }
                Err(SourceFailure::Open(FileSourceError::TooLarge) | SourceFailure::Grew) => {
                    return Err(BuildError::Input {
                        code: Code::SourceTooLarge,
                        what: what.clone(),
                        message: format!("source {} is larger than {FILE_SOURCE_LIMIT} bytes", host.display()),
                        hint:
                            "put content this large in an image (a volume or a container's), not in the files section"
                                .into(),
                    });
                }
                Err(SourceFailure::Read(e)) => {
                    return Err(BuildError::Io {
                        path: host.display().to_string(),
                        source: std::io::Error::new(e.kind(), e.to_string()),
                        hint: "check the file and the space left on the output disk".into(),
                    });
                }
            }
        } else if let Some(format) = &f.metadata {
            NodeKind::File(Content::Inline(
                metadata(loaded, &format.value)
                    .map_err(|m| bad(m, "use json or yaml"))?
                    .into(),
            ))
        } else {
            return Err(bad(
                "says neither contents, source, metadata, symlink nor directory".into(),
                "give the entry one of them",
            ));
        };
        let mut search = mode;
        for (read, exec) in [(0o700, 0o100), (0o070, 0o010), (0o007, 0o001)] {
            if mode & read != 0 {
                search |= exec;
            }
        }
        let origin = Origin::new("linuxkit.files", &format!("files[{i}]"));
        let mut parent = Node::dir(search, &origin);
        (parent.uid, parent.gid) = (uid.into(), gid.into());
        tree.make_parents(&path, &parent)?;
        let mut node = Node::made(kind, mode, &origin);
        (node.uid, node.gid) = (uid.into(), gid.into());
        tree.put(&path, node)?;
    }
    Ok(())
}

/// The configuration as a files entry's `metadata: json|yaml` asks for it.
fn metadata(loaded: &Loaded, format: &str) -> Result<Vec<u8>, String> {
    match format {
        "json" => crate::effective::oci::to_go_json(&loaded.config).map_err(|e| e.to_string()),
        "yaml" => serde_saphyr::to_string(&loaded.config)
            .map(String::into_bytes)
            .map_err(|e| e.to_string()),
        other => Err(format!("metadata format {other:?} is not json or yaml")),
    }
}
