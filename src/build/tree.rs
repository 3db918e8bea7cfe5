//! The final OS image as one tree of paths, built in LinuxKit's order (kernel, init, volumes,
//! onboot, onshutdown, services, files, SBOM) with last-writer-wins, as unpacking LinuxKit's tar
//! would give — but with one entry per path, parents always folders, and nothing ever written
//! through a symlink. Writers walk it in byte order of the path, so the output does not depend on
//! the order anything was added in.

use std::collections::BTreeMap;
use std::sync::Arc;

/// Where a regular file's bytes are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Content {
    /// A range of the build's spool file (bytes read from layers or host files).
    Spool { offset: u64, len: u64 },
    /// Bytes made by the build (config.json, files entries, the SBOM).
    Inline(Arc<[u8]>),
}

impl Content {
    pub fn len(&self) -> u64 {
        match self {
            Content::Spool { len, .. } => *len,
            Content::Inline(bytes) => bytes.len() as u64,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeKind {
    File(Content),
    Dir,
    Symlink(String),
    Char { major: u32, minor: u32 },
    Block { major: u32, minor: u32 },
    Fifo,
}

impl NodeKind {
    fn describe(&self) -> &'static str {
        match self {
            NodeKind::File(_) => "a file",
            NodeKind::Dir => "a folder",
            NodeKind::Symlink(_) => "a symlink",
            NodeKind::Char { .. } => "a character device",
            NodeKind::Block { .. } => "a block device",
            NodeKind::Fifo => "a fifo",
        }
    }
}

/// What put an entry there, in LinuxKit's terms: the `LINUXKIT.source` (an image reference,
/// `linuxkit.files`…) and `LINUXKIT.location` (`init[0]`, `files[2]`…) PAX records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub source: Arc<str>,
    pub location: Arc<str>,
}

impl Origin {
    pub fn new(source: &str, location: &str) -> Self {
        Origin {
            source: source.into(),
            location: location.into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    pub kind: NodeKind,
    pub mode: u32,
    pub uid: u64,
    pub gid: u64,
    pub mtime: u64,
    /// Shared by the hard links of one file, as in the flattened view.
    pub xattrs: std::sync::Arc<BTreeMap<String, Vec<u8>>>,
    pub origin: Origin,
}

impl Node {
    /// A root-owned folder or file of the build's own making.
    pub fn made(kind: NodeKind, mode: u32, origin: &Origin) -> Self {
        Node {
            kind,
            mode,
            uid: 0,
            gid: 0,
            // Clamped to SOURCE_DATE_EPOCH when placed: made entries carry the build time.
            mtime: u64::MAX,
            xattrs: Default::default(),
            origin: origin.clone(),
        }
    }

    pub fn dir(mode: u32, origin: &Origin) -> Self {
        Self::made(NodeKind::Dir, mode, origin)
    }

    pub fn inline(bytes: impl Into<Arc<[u8]>>, mode: u32, origin: &Origin) -> Self {
        Self::made(NodeKind::File(Content::Inline(bytes.into())), mode, origin)
    }
}

/// Why an entry cannot be placed: the path, who wrote what is there, and who tried.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {message} ({by})\n  hint: {hint}")]
pub struct Conflict {
    pub path: String,
    pub message: String,
    pub by: String,
    pub hint: String,
}

/// The image's entries by relative path (`etc/hosts`; the root itself is not an entry).
#[derive(Debug, Clone)]
pub struct Tree {
    nodes: BTreeMap<String, Node>,
    /// SOURCE_DATE_EPOCH: no mtime in the image is later.
    epoch: u64,
    /// Parents looked up: the work the tests bound.
    lookups: u64,
}

fn describe(origin: &Origin) -> String {
    format!("{} {}", origin.location, origin.source)
}

impl Tree {
    pub fn new(epoch: u64) -> Self {
        Tree {
            nodes: BTreeMap::new(),
            epoch,
            lookups: 0,
        }
    }

    pub fn epoch(&self) -> u64 {
        self.epoch
    }

    pub fn get(&self, path: &str) -> Option<&Node> {
        self.nodes.get(path)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&String, &Node)> {
        self.nodes.iter()
    }

    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    fn has_children(&self, path: &str) -> bool {
        let prefix = format!("{path}/");
        self.nodes
            .range(prefix.clone()..)
            .next()
            .is_some_and(|(p, _)| p.starts_with(&prefix))
    }

    /// Makes every missing parent folder of `path` with `template`'s mode and owner; a parent that
    /// exists keeps its own (LinuxKit's files section would re-emit it with the file's mode).
    /// A parent that is not a folder is an error: writing through a symlink could land anywhere.
    ///
    /// Every entry's parents are folders (they are made before it, and a folder with contents is
    /// never replaced), so the nearest parent that exists vouches for all above it. Looking each
    /// one up from the root instead cost a path d folders deep d lookups of keys up to 4 KiB, for
    /// every entry: the fuzzer's 10 KiB layer of one path 2,000 folders deep took over 10 s.
    pub fn make_parents(&mut self, path: &str, template: &Node) -> Result<(), Conflict> {
        let mut missing = Vec::new();
        let mut end = path.len();
        while let Some(slash) = path[..end].rfind('/') {
            let parent = &path[..slash];
            end = slash;
            self.lookups += 1;
            match self.nodes.get(parent) {
                Some(Node {
                    kind: NodeKind::Dir, ..
                }) => break,
                Some(other) => {
                    return Err(Conflict {
                        path: path.to_owned(),
                        message: format!(
                            "its parent {parent} is {} (from {}), so this entry would be written through it",
                            other.kind.describe(),
                            describe(&other.origin)
                        ),
                        by: describe(&template.origin),
                        hint: format!(
                            "make {parent} a folder in every part of the image, or write to the path it points to"
                        ),
                    });
                }
                None => missing.push(parent),
            }
        }
        for parent in missing.into_iter().rev() {
            let mut dir = template.clone();
            dir.kind = NodeKind::Dir;
            dir.xattrs = Default::default();
            dir.mtime = self.epoch;
            self.nodes.insert(parent.to_owned(), dir);
        }
        Ok(())
    }

    /// Places `node` at `path`, making missing parents as root-owned 0755 folders. A folder over a
    /// folder takes the new metadata and keeps the contents; anything else replaces what was
    /// there, except that a folder with contents is never replaced by a non-folder.
    pub fn insert(&mut self, path: &str, node: Node) -> Result<(), Conflict> {
        self.make_parents(path, &Node::dir(0o755, &node.origin))?;
        self.put(path, node)
    }

    /// As [`Tree::insert`], with the parents already there (or made by the caller).
    pub fn put(&mut self, path: &str, mut node: Node) -> Result<(), Conflict> {
        debug_assert!(!path.is_empty() && !path.starts_with('/') && !path.ends_with('/'));
        node.mtime = node.mtime.min(self.epoch);
        if let Some(old) = self.nodes.get(path)
            && old.kind == NodeKind::Dir
            && node.kind != NodeKind::Dir
            && self.has_children(path)
        {
            return Err(Conflict {
                path: path.to_owned(),
                message: format!(
                    "is a folder with contents (from {}), which {} would replace",
                    describe(&old.origin),
                    node.kind.describe()
                ),
                by: describe(&node.origin),
                hint: "make the parts of the image agree on what this path is".into(),
            });
        }
        self.nodes.insert(path.to_owned(), node);
        Ok(())
    }

    /// Removes `path` and everything under it.
    pub fn remove_tree(&mut self, path: &str) {
        self.nodes.remove(path);
        let prefix = format!("{path}/");
        let doomed: Vec<String> = self
            .nodes
            .range(prefix.clone()..)
            .take_while(|(p, _)| p.starts_with(&prefix))
            .map(|(p, _)| p.clone())
            .collect();
        for p in doomed {
            self.nodes.remove(&p);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origin(location: &str) -> Origin {
        Origin::new("test", location)
    }

    #[test]
    fn parents_are_made_and_kept() {
        let mut tree = Tree::new(100);
        tree.insert("etc/ssh/sshd_config", Node::inline(&b"x"[..], 0o644, &origin("a")))
            .unwrap();
        assert_eq!(tree.get("etc").unwrap().kind, NodeKind::Dir);
        assert_eq!(tree.get("etc").unwrap().mode, 0o755);
        let mut strict = Node::dir(0o700, &origin("files[0]"));
        strict.uid = 5;
        tree.make_parents("etc/new/file", &strict).unwrap();
        assert_eq!(
            tree.get("etc").unwrap().mode,
            0o755,
            "an existing parent keeps its mode"
        );
        assert_eq!(tree.get("etc/new").unwrap().mode, 0o700);
        assert_eq!(tree.get("etc/new").unwrap().uid, 5);
    }

    #[test]
    fn never_through_a_symlink() {
        let mut tree = Tree::new(100);
        tree.insert(
            "etc",
            Node::made(NodeKind::Symlink("/tmp".into()), 0o777, &origin("init[0]")),
        )
        .unwrap();
        let err = tree
            .insert("etc/hosts", Node::inline(&b""[..], 0o644, &origin("files[0]")))
            .unwrap_err();
        assert!(err.message.contains("etc is a symlink"), "{err}");
        assert!(err.to_string().contains("init[0]") && err.to_string().contains("files[0]"));
    }

    #[test]
    fn folders_merge_and_files_replace() {
        let mut tree = Tree::new(100);
        tree.insert("bin/sh", Node::inline(&b"1"[..], 0o755, &origin("a")))
            .unwrap();
        tree.insert("bin", Node::dir(0o700, &origin("b"))).unwrap();
        assert!(tree.get("bin/sh").is_some());
        assert_eq!(tree.get("bin").unwrap().mode, 0o700);
        tree.insert("bin/sh", Node::inline(&b"2"[..], 0o755, &origin("b")))
            .unwrap();
        assert_eq!(tree.len(), 2);
        let err = tree
            .insert("bin", Node::inline(&b""[..], 0o644, &origin("c")))
            .unwrap_err();
        assert!(err.message.contains("folder with contents"));
    }

    /// The fuzzer's layer of one path 2,000 folders deep (scripts/fuzz-layer-seeds.py's
    /// deep-path.tar) timed out in the build: each implied folder looked up every one of its
    /// ancestors, 4 million lookups of keys up to 4 KiB. Flattened, it reaches the tree as here,
    /// folders first, in byte order.
    #[test]
    fn parents_are_looked_up_from_the_nearest() {
        let mut tree = Tree::new(100);
        let deep = "a/".repeat(2000);
        for end in (1..deep.len()).step_by(2) {
            tree.insert(&deep[..end], Node::dir(0o755, &origin("a"))).unwrap();
        }
        for i in 0..1000 {
            tree.insert(&format!("{deep}f{i}"), Node::inline(&b"x"[..], 0o644, &origin("a")))
                .unwrap();
        }
        assert_eq!(tree.len(), 3000);
        assert!(tree.lookups <= 2000 + 1000, "{} lookups", tree.lookups);
        // A folder deep down that is a symlink is still found.
        tree.insert(
            &format!("{deep}link"),
            Node::made(NodeKind::Symlink("/".into()), 0o777, &origin("b")),
        )
        .unwrap();
        let err = tree
            .insert(&format!("{deep}link/x/y"), Node::inline(&b""[..], 0o644, &origin("c")))
            .unwrap_err();
        assert!(err.message.contains("link is a symlink"), "{err}");
        assert!(
            tree.get(&format!("{deep}link/x")).is_none(),
            "nothing made below the symlink"
        );
    }

    #[test]
    fn mtimes_are_clamped() {
        let mut tree = Tree::new(100);
        let mut node = Node::dir(0o755, &origin("a"));
        node.mtime = 5_000;
        tree.insert("a", node.clone()).unwrap();
        node.mtime = 7;
        tree.insert("b", node).unwrap();
        assert_eq!(tree.get("a").unwrap().mtime, 100);
        assert_eq!(tree.get("b").unwrap().mtime, 7);
    }

    #[test]
    fn remove_tree_spares_siblings() {
        let mut tree = Tree::new(100);
        for p in ["dev/pts/0", "dev/pts", "dev/ptsx", "dev-x"] {
            tree.insert(p, Node::dir(0o755, &origin("a"))).unwrap();
        }
        tree.remove_tree("dev/pts");
        let left: Vec<&String> = tree.iter().map(|(p, _)| p).collect();
        assert_eq!(left, ["dev", "dev-x", "dev/ptsx"]);
    }
}
