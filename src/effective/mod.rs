//! The effective runtime configuration of each container: what LinuxKit would run, computed with
//! the precedence and quirks of its `ConfigToOCI` (src/cmd/linuxkit/moby/config.go, v1.8.2):
//! YAML entry > image label `org.mobyproject.config` > image config > defaults.
//!
//! Where LinuxKit silently loses what the user wrote, sealkit keeps it and docs/config.md says so:
//! camelCase `resources` and id-mapping keys are honoured, `capabilities.add` is de-duplicated,
//! and volume names in `mounts` are resolved like those in `binds`.

pub mod oci;

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::caps;
use crate::config::label::Label;
use crate::config::model::{Config, Id, ImageSpec, Mount as MountSpec, S};
use crate::config::validate::{
    mount_type_and_destination, parse_bind, parse_mode, parse_rlimit, parse_tmpfs, sections,
};
use crate::config::{Loaded, Origins};
use crate::reference::ImageRef;
use oci::{
    BindNs, Capabilities, Device, InterfaceJson, Linux, Mount, Namespace, NamespaceKind, Process, Resources, Rlimit,
    Root, RuntimeJson, Spec, User,
};

/// What an image itself says about how to run it (the `config` of its OCI image config).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImageDefaults {
    pub entrypoint: Vec<String>,
    pub cmd: Vec<String>,
    pub env: Vec<String>,
    pub working_dir: String,
}

impl ImageDefaults {
    pub fn of(image: &crate::image::ResolvedImage) -> Self {
        let c = image.config.config().as_ref();
        ImageDefaults {
            entrypoint: c.and_then(|c| c.entrypoint().clone()).unwrap_or_default(),
            cmd: c.and_then(|c| c.cmd().clone()).unwrap_or_default(),
            env: c.and_then(|c| c.env().clone()).unwrap_or_default(),
            working_dir: c.and_then(|c| c.working_dir().clone()).unwrap_or_default(),
        }
    }
}

/// What is known of one image: its label and its config, each only if it could be read.
#[derive(Debug, Clone, Default)]
pub struct ImageFacts {
    pub label: Option<Label>,
    pub defaults: Option<ImageDefaults>,
}

/// Identifies the JSON document `sealkit config --effective` prints.
pub const DOCUMENT_SCHEMA: &str = "https://sealkit.dev/schemas/effective-config/v1";

/// What `sealkit config --effective` prints: every container of the merged files, in LinuxKit's
/// order (onboot, onshutdown, services).
#[derive(Debug, Clone, Serialize)]
pub struct Document {
    pub schema: &'static str,
    pub files: Vec<String>,
    pub components: Vec<Component>,
}

/// The effective configuration of one container.
#[derive(Debug, Clone, Serialize)]
pub struct Component {
    pub section: &'static str,
    pub index: usize,
    pub name: String,
    pub image: String,
    /// The bundle folder LinuxKit lays the container out in.
    pub path: String,
    /// The uid/gid LinuxKit allocates to this container (for `uid: NAME` references); not the
    /// uid its process runs as, which is `config.process.user`.
    pub uid: u32,
    /// Where the label came from; `None` when no label was found (the image has none, or it could
    /// not be read): the runtime config then rests on the YAML and defaults alone.
    pub label_source: Option<String>,
    /// Whether the image's own config (entrypoint, cmd, env, working dir) was available.
    pub image_config_known: bool,
    pub config: Spec,
    pub runtime: RuntimeJson,
}

crate::error_codes! {
    BadReference = "bad-image-reference": "A container's image is not a valid image reference.",
    BadLabel = "bad-label": "An image's org.mobyproject.config label cannot be read.",
    BadValue = "bad-runtime-value": "A runtime setting, from the YAML or an image label, has a value LinuxKit cannot use.",
}

#[derive(Debug, thiserror::Error)]
#[error("{file}: {field}: {message}\n  hint: {hint}")]
pub struct EffectiveError {
    pub code: Code,
    pub file: String,
    pub field: String,
    pub message: String,
    pub hint: String,
}

/// LinuxKit's uid/gid allocation: 100, 101, … in onboot, onshutdown, services order.
pub fn allocate_ids(config: &Config) -> BTreeMap<String, u32> {
    let mut ids = BTreeMap::new();
    let mut next = 100u32;
    for (_, list) in sections(config) {
        for entry in list {
            if let Some(name) = &entry.value.name {
                ids.insert(name.value.clone(), next);
            }
            next += 1;
        }
    }
    ids
}

/// A uid or gid as LinuxKit's `IDNumeric` reads it: a number, `root` (or nothing) for 0, or the
/// name of a container for the id allocated to it.
pub fn numeric_id(id: &Id, ids: &BTreeMap<String, u32>) -> Result<u32, String> {
    match id {
        Id::Number(n) => Ok(*n),
        Id::Name(name) if name.is_empty() || name == "root" => Ok(0),
        Id::Name(name) => ids
            .get(name)
            .copied()
            .ok_or_else(|| format!("no container is named {name:?}")),
    }
}

pub const VOLUMES_DIR: &str = "/containers/volumes";

/// Tells what is known of an image: called with the reference as written and the configuration
/// file it was written in; an error (a label that cannot be read) stops the computation.
pub type FactSource<'a> = dyn Fn(&str, &std::path::Path) -> Result<ImageFacts, String> + 'a;

/// Computes every container's effective configuration.
pub fn compute(loaded: &Loaded, facts: &FactSource) -> Result<Vec<Component>, EffectiveError> {
    let config = &loaded.config;
    let ids = allocate_ids(config);
    // A ref is unpacked once; later containers of the same image overlay or bind that first copy.
    let mut unpacked: BTreeMap<String, String> = BTreeMap::new();
    let mut out = Vec::new();
    let mut own_id = 100u32;
    for (section, list) in sections(config) {
        for (index, entry) in list.iter().enumerate() {
            let uid = own_id;
            own_id += 1;
            let spec = &entry.value;
            let name = spec.name.as_ref().map(|n| n.value.clone()).unwrap_or_default();
            let image_text = spec.image.as_ref().map(|i| i.value.clone()).unwrap_or_default();
            let image: ImageRef = image_text
                .parse()
                .map_err(|e: crate::reference::ReferenceError| EffectiveError {
                    code: Code::BadReference,
                    file: loaded.origins.file(section, index).display().to_string(),
                    field: format!("{section}[{index}].image"),
                    message: e.message,
                    hint: e.hint.into(),
                })?;
            let file = loaded.origins.file(section, index);
            let ImageFacts { label, defaults } = facts(&image_text, file).map_err(|message| EffectiveError {
                code: Code::BadLabel,
                file: file.display().to_string(),
                field: format!("{section}[{index}].image"),
                message,
                hint: "fix the image's label, or rebuild the image with a valid one".into(),
            })?;
            let yaml = with_volume_paths(spec, config);
            let mut ctx = Ctx {
                ids: &ids,
                label_source: label.as_ref().map(|l| l.source.as_str()),
                origins: &loaded.origins,
                section,
                index,
            };
            let (oci, mut runtime) = config_to_oci(
                &yaml,
                label.as_ref().map(|l| &l.spec),
                &defaults.clone().unwrap_or_default(),
                &mut ctx,
            )?;

            let prefix = if section == "services" {
                name.clone()
            } else {
                format!("{index:03}-{name}")
            };
            let path = format!("containers/{section}/{prefix}");
            let key = image.to_string();
            let readonly = oci.root.readonly;
            let own_root = format!("{path}/{}", if readonly { "rootfs" } else { "lower" });
            let root = unpacked.entry(key).or_insert(own_root).clone();
            let mut mounts = bundle_mounts(&path, &root, readonly);
            mounts.append(&mut runtime.mounts);
            runtime.mounts = mounts;

            out.push(Component {
                section,
                index,
                uid,
                name,
                image: image_text,
                path,
                label_source: label.map(|l| l.source),
                image_config_known: defaults.is_some(),
                config: oci,
                runtime,
            });
        }
    }
    Ok(out)
}

/// The mounts LinuxKit's `ImageBundle` puts before the user's runtime mounts: a read-only root is
/// bind-mounted onto itself (runc wants a mount point); a writable one is an overlay on tmpfs.
fn bundle_mounts(path: &str, root: &str, readonly: bool) -> Vec<Mount> {
    let s = |v: &str| v.to_owned();
    if readonly {
        return vec![Mount {
            destination: format!("/{path}/rootfs"),
            kind: String::new(),
            source: format!("/{root}"),
            options: vec![s("bind")],
        }];
    }
    let tmp = format!("{path}/tmp");
    vec![
        Mount {
            destination: format!("/{tmp}"),
            kind: s("tmpfs"),
            source: s("tmpfs"),
            options: vec![],
        },
        Mount {
            destination: format!("/{tmp}"),
            kind: String::new(),
            source: String::new(),
            options: vec![s("remount"), s("private")],
        },
        Mount {
            destination: format!("/{path}/rootfs"),
            kind: s("overlay"),
            source: s("overlay"),
            options: vec![
                format!("lowerdir=/{root}"),
                format!("upperdir=/{tmp}/upper"),
                format!("workdir=/{tmp}/work"),
            ],
        },
    ]
}

/// Replaces volume names in a YAML entry's binds and bind mounts with the volume's merged folder.
/// (LinuxKit does this for binds; for `mounts` its loop edits a copy, so the name stays.)
fn with_volume_paths(spec: &ImageSpec, config: &Config) -> ImageSpec {
    let volume_names: BTreeSet<&str> = config
        .volumes
        .iter()
        .flatten()
        .filter_map(|v| v.value.name.as_ref().map(|n| n.value.as_str()))
        .collect();
    let merged = |name: &str| format!("{VOLUMES_DIR}/{name}/merged");
    let rewrite_binds = |list: &Option<Vec<S<String>>>| {
        list.as_ref().map(|binds| {
            binds
                .iter()
                .map(|b| {
                    let mut b = b.clone();
                    if let Some((source, rest)) = b.value.split_once(':')
                        && !source.starts_with('/')
                        && volume_names.contains(source)
                    {
                        b.value = format!("{}:{rest}", merged(source));
                    }
                    b
                })
                .collect()
        })
    };
    let mut out = spec.clone();
    out.binds = rewrite_binds(&spec.binds);
    out.binds_add = rewrite_binds(&spec.binds_add);
    for mount in out.mounts.iter_mut().flatten() {
        let m = &mut mount.value;
        if m.kind.as_deref() == Some("bind")
            && let Some(source) = m.source.as_mut()
            && !source.starts_with('/')
            && volume_names.contains(source.as_str())
        {
            *source = merged(source);
        }
    }
    out
}

struct Ctx<'a> {
    ids: &'a BTreeMap<String, u32>,
    label_source: Option<&'a str>,
    origins: &'a Origins,
    section: &'static str,
    index: usize,
}

impl Ctx<'_> {
    fn error(&self, from_label: bool, field: &str, message: String, hint: &str) -> EffectiveError {
        let (file, field) = if from_label {
            (
                self.label_source.unwrap_or("label").to_owned(),
                format!("label.{field}"),
            )
        } else {
            (
                self.origins.file(self.section, self.index).display().to_string(),
                format!("{}[{}].{field}", self.section, self.index),
            )
        };
        EffectiveError {
            code: Code::BadValue,
            file,
            field,
            message,
            hint: hint.to_owned(),
        }
    }
}

/// `yaml`, else `label`, else nothing: LinuxKit's pointer precedence (an explicit empty list in
/// the YAML clears the label's).
fn pick<'a, T>(yaml: &'a Option<T>, label: Option<&'a Option<T>>) -> (Option<&'a T>, bool) {
    match (yaml, label.and_then(Option::as_ref)) {
        (Some(v), _) => (Some(v), false),
        (None, Some(v)) => (Some(v), true),
        (None, None) => (None, false),
    }
}

/// The first non-empty string of yaml, label (LinuxKit's `assignStringEmpty`).
fn first_non_empty(values: &[Option<&str>]) -> String {
    values
        .iter()
        .flatten()
        .find(|s| !s.is_empty())
        .map(|s| (*s).to_owned())
        .unwrap_or_default()
}

fn values<T: Clone>(list: Option<&Vec<S<T>>>) -> Option<Vec<T>> {
    list.map(|l| l.iter().map(|v| v.value.clone()).collect())
}

/// LinuxKit's `ConfigToOCI` for one container.
fn config_to_oci(
    yaml: &ImageSpec,
    label: Option<&ImageSpec>,
    image: &ImageDefaults,
    ctx: &mut Ctx,
) -> Result<(Spec, RuntimeJson), EffectiveError> {
    let l = |f: fn(&ImageSpec) -> &Option<S<String>>| label.and_then(|l| f(l).as_ref()).map(|s| s.value.as_str());
    let y = |f: fn(&ImageSpec) -> &Option<S<String>>| f(yaml).as_ref().map(|s| s.value.as_str());

    let args = match pick(&yaml.command, label.map(|l| &l.command)).0 {
        Some(cmd) => cmd.clone(),
        None => image.entrypoint.iter().chain(&image.cmd).cloned().collect(),
    };
    let env = match pick(&yaml.env, label.map(|l| &l.env)).0 {
        Some(env) => env.iter().map(|e| e.value.clone()).collect(),
        None => image.env.clone(),
    };
    let mut cwd = first_non_empty(&[y(|s| &s.cwd), l(|s| &s.cwd), Some(image.working_dir.as_str())]);
    if cwd.is_empty() {
        cwd = "/".into();
    }
    let readonly = yaml.readonly.or(label.and_then(|l| l.readonly)).unwrap_or(false);

    let mounts = mounts(yaml, label, readonly);

    let mut namespaces = Vec::new();
    let mut namespace = |kind: NamespaceKind, value: String, default_host: bool| {
        let value = if value.is_empty() && default_host {
            "root".to_owned()
        } else {
            value
        };
        if value == "host" || value == "root" {
            return;
        }
        let path = if matches!(value.as_str(), "new" | "none" | "") {
            String::new()
        } else {
            value
        };
        namespaces.push(Namespace { kind, path });
    };
    namespace(
        NamespaceKind::Network,
        first_non_empty(&[y(|s| &s.net), l(|s| &s.net)]),
        true,
    );
    namespace(
        NamespaceKind::Ipc,
        first_non_empty(&[y(|s| &s.ipc), l(|s| &s.ipc)]),
        true,
    );
    namespace(
        NamespaceKind::Uts,
        first_non_empty(&[y(|s| &s.uts), l(|s| &s.uts)]),
        true,
    );
    namespace(
        NamespaceKind::Pid,
        first_non_empty(&[y(|s| &s.pid), l(|s| &s.pid)]),
        false,
    );
    namespace(
        NamespaceKind::User,
        first_non_empty(&[y(|s| &s.userns), l(|s| &s.userns)]),
        true,
    );
    namespaces.push(Namespace {
        kind: NamespaceKind::Mount,
        path: String::new(),
    });

    let capabilities = match &yaml.capabilities {
        Some(caps) => values(Some(caps)).unwrap_or_default(),
        None => union(
            values(label.and_then(|l| l.capabilities.as_ref())),
            values(yaml.capabilities_add.as_ref()),
        ),
    };
    let capabilities = expand_all_none(capabilities);
    let ambient = expand_all_none(values(pick(&yaml.ambient, label.map(|l| &l.ambient)).0).unwrap_or_default());
    let bounding: Vec<String> = capabilities
        .iter()
        .chain(&ambient)
        .cloned()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    for cap in capabilities.iter().chain(&ambient) {
        if !caps::is_known(cap) {
            return Err(ctx.error(
                false,
                "capabilities",
                format!("unknown capability {cap:?}"),
                "use names such as CAP_NET_ADMIN",
            ));
        }
    }

    let (rlimit_list, rlimits_from_label) = pick(&yaml.rlimits, label.map(|l| &l.rlimits));
    let mut rlimits = Vec::new();
    for r in rlimit_list.into_iter().flatten() {
        let (kind, soft, hard) =
            parse_rlimit(&r.value).map_err(|(m, h)| ctx.error(rlimits_from_label, "rlimits", m, h))?;
        rlimits.push(Rlimit { kind, hard, soft });
    }

    let id = |id: Option<(&S<Id>, bool)>, field: &str| -> Result<u32, EffectiveError> {
        let Some((id, from_label)) = id else { return Ok(0) };
        numeric_id(&id.value, ctx.ids)
            .map_err(|message| ctx.error(from_label, field, message, "use a number, root, or a container name"))
    };
    let uid = id(with_origin(pick(&yaml.uid, label.map(|l| &l.uid))), "uid")?;
    let gid = id(with_origin(pick(&yaml.gid, label.map(|l| &l.gid))), "gid")?;
    let (gids, gids_from_label) = pick(&yaml.additional_gids, label.map(|l| &l.additional_gids));
    let additional_gids = gids
        .into_iter()
        .flatten()
        .map(|g| id(Some((g, gids_from_label)), "additionalGids"))
        .collect::<Result<Vec<_>, _>>()?;

    let mut resources = pick(&yaml.resources, label.map(|l| &l.resources))
        .0
        .cloned()
        .unwrap_or_default();
    let mut oci_resources = Resources {
        devices: resources.devices.take().unwrap_or_default(),
        memory: resources.memory.take(),
        cpu: resources.cpu.take(),
        pids: resources.pids.take(),
        block_io: resources.blockio.take(),
        hugepage_limits: resources.hugepage_limits.take().unwrap_or_default(),
        network: resources.network.take(),
    };
    let (device_list, devices_from_label) = pick(&yaml.devices, label.map(|l| &l.devices));
    let mut devices = Vec::new();
    for d in device_list.into_iter().flatten() {
        let d = &d.value;
        let kind = d.kind.clone().unwrap_or_default();
        if d.path.as_deref() == Some("all") {
            oci_resources.devices.push(crate::config::model::DeviceCgroup {
                allow: true,
                kind: Some(kind),
                major: None,
                minor: None,
                access: Some("rwm".into()),
            });
            continue;
        }
        let mode = parse_mode(d.mode.as_deref().unwrap_or(""))
            .map_err(|m| ctx.error(devices_from_label, "devices", m, "write the mode as an octal string"))?;
        let (major, minor) = (d.major.unwrap_or(0), d.minor.unwrap_or(0));
        oci_resources.devices.push(crate::config::model::DeviceCgroup {
            allow: true,
            kind: Some(kind.clone()),
            major: Some(major),
            minor: Some(minor),
            access: Some("rwm".into()),
        });
        devices.push(Device {
            path: d.path.clone().unwrap_or_default(),
            kind,
            major,
            minor,
            file_mode: mode,
        });
    }

    let string_list =
        |y: &Option<Vec<String>>, l: Option<&Option<Vec<String>>>| pick(y, l).0.cloned().unwrap_or_default();
    let spec = Spec {
        oci_version: oci::OCI_VERSION.into(),
        process: Process {
            user: User {
                uid,
                gid,
                additional_gids,
            },
            args,
            env,
            cwd,
            capabilities: Capabilities {
                inheritable: bounding.clone(),
                permitted: bounding.clone(),
                bounding,
                effective: capabilities,
                ambient,
            },
            rlimits,
            no_new_privileges: yaml
                .no_new_privileges
                .or(label.and_then(|l| l.no_new_privileges))
                .unwrap_or(false),
            oom_score_adj: pick(&yaml.oom_score_adj, label.map(|l| &l.oom_score_adj))
                .0
                .map(|v| v.value),
        },
        root: Root {
            path: "rootfs".into(),
            readonly,
        },
        hostname: first_non_empty(&[yaml.hostname.as_deref(), label.and_then(|l| l.hostname.as_deref())]),
        mounts,
        annotations: pick(&yaml.annotations, label.map(|l| &l.annotations))
            .0
            .cloned()
            .unwrap_or_default(),
        linux: Linux {
            uid_mappings: pick(&yaml.uid_mappings, label.map(|l| &l.uid_mappings))
                .0
                .cloned()
                .unwrap_or_default(),
            gid_mappings: pick(&yaml.gid_mappings, label.map(|l| &l.gid_mappings))
                .0
                .cloned()
                .unwrap_or_default(),
            sysctl: pick(&yaml.sysctl, label.map(|l| &l.sysctl))
                .0
                .cloned()
                .unwrap_or_default(),
            resources: oci_resources,
            cgroups_path: pick(&yaml.cgroups_path, label.map(|l| &l.cgroups_path))
                .0
                .cloned()
                .unwrap_or_default(),
            namespaces,
            devices,
            rootfs_propagation: pick(&yaml.rootfs_propagation, label.map(|l| &l.rootfs_propagation))
                .0
                .map(|v| v.value.clone())
                .unwrap_or_default(),
            masked_paths: string_list(&yaml.masked_paths, label.map(|l| &l.masked_paths)),
            readonly_paths: string_list(&yaml.readonly_paths, label.map(|l| &l.readonly_paths)),
        },
    };
    Ok((spec, runtime_json(yaml, label)))
}

fn with_origin<T>((value, from_label): (Option<&T>, bool)) -> Option<(&T, bool)> {
    value.map(|v| (v, from_label))
}

/// `capabilities.add` joins the label's list; LinuxKit means a de-duplicated union (its
/// `mergeStrings` forgets to record what it has seen, so it keeps duplicates: sealkit does not).
fn union(base: Option<Vec<String>>, add: Option<Vec<String>>) -> Vec<String> {
    let mut seen = BTreeSet::new();
    base.into_iter()
        .flatten()
        .chain(add.into_iter().flatten())
        .filter(|c| seen.insert(c.clone()))
        .collect()
}

fn expand_all_none(list: Vec<String>) -> Vec<String> {
    if let [single] = list.as_slice() {
        match single.to_ascii_lowercase().as_str() {
            "all" => return caps::ALL.iter().map(|c| (*c).to_owned()).collect(),
            "none" => return Vec::new(),
            _ => {}
        }
    }
    list
}

/// Mounts keyed by destination: defaults, then tmpfs, then binds, then `mounts`, later ones
/// replacing earlier ones at the same destination; sorted by destination.
fn mounts(yaml: &ImageSpec, label: Option<&ImageSpec>, readonly: bool) -> Vec<Mount> {
    let s = |v: &[&str]| v.iter().map(|o| (*o).to_owned()).collect::<Vec<_>>();
    let mut dev = s(&["nosuid", "strictatime", "mode=755", "size=65536k"]);
    let mut sys = s(&["nosuid", "noexec", "nodev"]);
    if readonly {
        dev.push("ro".into());
        sys.push("ro".into());
    }
    let mut table: BTreeMap<String, Mount> = BTreeMap::new();
    let mut put = |destination: &str, kind: &str, source: &str, options: Vec<String>| {
        table.insert(
            destination.to_owned(),
            Mount {
                destination: destination.to_owned(),
                kind: kind.to_owned(),
                source: source.to_owned(),
                options,
            },
        );
    };
    put("/proc", "proc", "proc", s(&["nosuid", "nodev", "noexec", "relatime"]));
    put("/dev", "tmpfs", "tmpfs", dev);
    put(
        "/dev/pts",
        "devpts",
        "devpts",
        s(&["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"]),
    );
    put("/sys", "sysfs", "sysfs", sys);
    put(
        "/sys/fs/cgroup",
        "cgroup",
        "cgroup",
        s(&["nosuid", "noexec", "nodev", "relatime", "ro"]),
    );

    for t in pick(&yaml.tmpfs, label.map(|l| &l.tmpfs)).0.into_iter().flatten() {
        if let Ok((destination, options)) = parse_tmpfs(&t.value) {
            put(
                destination,
                "tmpfs",
                "tmpfs",
                options
                    .map(|o| o.split(',').map(str::to_owned).collect())
                    .unwrap_or_default(),
            );
        }
    }
    let binds: Vec<String> = match &yaml.binds {
        Some(b) => b.iter().map(|b| b.value.clone()).collect(),
        None => {
            // Binds are keyed by destination, so LinuxKit's missing de-duplication is invisible here.
            let base = label.and_then(|l| l.binds.as_ref());
            base.into_iter()
                .flatten()
                .chain(yaml.binds_add.iter().flatten())
                .map(|b| b.value.clone())
                .collect()
        }
    };
    for b in &binds {
        if let Ok(bind) = parse_bind(b) {
            let options = match bind.options {
                None => s(&["rw", "rbind", "rshared"]),
                Some(o) => o.split(',').map(str::to_owned).chain(["rbind".to_owned()]).collect(),
            };
            put(bind.destination, "bind", bind.source, options);
        }
    }
    for m in pick(&yaml.mounts, label.map(|l| &l.mounts)).0.into_iter().flatten() {
        let m: &MountSpec = &m.value;
        if let Ok((kind, destination)) = mount_type_and_destination(m) {
            let source = m
                .source
                .clone()
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| kind.clone());
            put(&destination, &kind, &source, m.options.clone().unwrap_or_default());
        }
    }
    table.into_values().collect()
}

/// LinuxKit's `assignRuntime`: each field from the YAML, else the label, else empty.
fn runtime_json(yaml: &ImageSpec, label: Option<&ImageSpec>) -> RuntimeJson {
    let y = yaml.runtime.as_ref();
    let l = label.and_then(|l| l.runtime.as_ref());
    let pick_rt = |f: fn(&crate::config::model::Runtime) -> Option<&Vec<String>>| {
        y.and_then(f).or_else(|| l.and_then(f)).cloned().unwrap_or_default()
    };
    let mounts = y
        .and_then(|r| r.mounts.as_ref())
        .or_else(|| l.and_then(|r| r.mounts.as_ref()))
        .map(|list| {
            list.iter()
                .map(|m| {
                    let m = &m.value;
                    Mount {
                        destination: m.destination.clone().unwrap_or_default(),
                        kind: m.kind.clone().unwrap_or_default(),
                        source: m.source.clone().unwrap_or_default(),
                        options: m.options.clone().unwrap_or_default(),
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    let interfaces = y
        .and_then(|r| r.interfaces.as_ref())
        .or_else(|| l.and_then(|r| r.interfaces.as_ref()))
        .map(|list| list.iter().map(InterfaceJson::from).collect())
        .unwrap_or_default();
    let ns = |f: fn(&crate::config::model::BindNamespaces) -> &Option<String>| {
        y.and_then(|r| r.bind_ns.as_ref())
            .and_then(|b| f(b).clone())
            .or_else(|| l.and_then(|r| r.bind_ns.as_ref()).and_then(|b| f(b).clone()))
            .unwrap_or_default()
    };
    RuntimeJson {
        cgroups: pick_rt(|r| r.cgroups.as_ref()),
        mounts,
        mkdir: pick_rt(|r| r.mkdir.as_ref()),
        interfaces,
        bind_ns: BindNs {
            cgroup: ns(|b| &b.cgroup),
            ipc: ns(|b| &b.ipc),
            mnt: ns(|b| &b.mnt),
            net: ns(|b| &b.net),
            pid: ns(|b| &b.pid),
            user: ns(|b| &b.user),
            uts: ns(|b| &b.uts),
        },
        namespace: y
            .and_then(|r| r.namespace.clone())
            .or_else(|| l.and_then(|r| r.namespace.clone()))
            .unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::label::parse_label;
    use std::path::Path;

    fn load(yaml: &str) -> Loaded {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("t.yml");
        std::fs::write(&file, yaml).unwrap();
        crate::config::load(&[&file]).unwrap()
    }

    fn run(yaml: &str, label: Option<&str>, defaults: Option<ImageDefaults>) -> Vec<Component> {
        let loaded = load(yaml);
        let label = label.map(|l| parse_label(l, "label.json").unwrap());
        let facts = |_: &str, _: &Path| {
            Ok(ImageFacts {
                label: label.clone(),
                defaults: defaults.clone(),
            })
        };
        compute(&loaded, &facts).unwrap()
    }

    fn one(body: &str, label: Option<&str>, defaults: Option<ImageDefaults>) -> Component {
        run(
            &format!("services:\n  - name: s\n    image: x:1\n{body}"),
            label,
            defaults,
        )
        .remove(0)
    }

    fn image() -> Option<ImageDefaults> {
        Some(ImageDefaults {
            entrypoint: vec!["/entry".into()],
            cmd: vec!["--flag".into()],
            env: vec!["PATH=/bin".into()],
            working_dir: "/work".into(),
        })
    }

    #[test]
    fn command_env_cwd_precedence_yaml_label_image() {
        let c = one("", None, image());
        assert_eq!(c.config.process.args, ["/entry", "--flag"]);
        assert_eq!(c.config.process.env, ["PATH=/bin"]);
        assert_eq!(c.config.process.cwd, "/work");
        let label = r#"{"command": ["/label"], "env": ["L=1"], "cwd": "/label"}"#;
        let c = one("", Some(label), image());
        assert_eq!(c.config.process.args, ["/label"]);
        assert_eq!(
            c.config.process.env,
            ["L=1"],
            "the label's env replaces the image's: no merge"
        );
        assert_eq!(c.config.process.cwd, "/label");
        let c = one(
            "    command: [/yaml]\n    env: []\n    cwd: /yaml\n",
            Some(label),
            image(),
        );
        assert_eq!(c.config.process.args, ["/yaml"]);
        assert!(
            c.config.process.env.is_empty(),
            "an explicit empty list clears the label's"
        );
        assert_eq!(c.config.process.cwd, "/yaml");
        assert_eq!(one("", None, None).config.process.cwd, "/");
    }

    #[test]
    fn empty_lists_clear_but_absent_lists_inherit() {
        let label = r#"{"capabilities": ["CAP_KILL"], "binds": ["/a:/a"]}"#;
        let inherit = one("", Some(label), None);
        assert_eq!(inherit.config.process.capabilities.effective, ["CAP_KILL"]);
        assert!(inherit.config.mounts.iter().any(|m| m.destination == "/a"));
        let cleared = one("    capabilities: []\n    binds: []\n", Some(label), None);
        assert!(cleared.config.process.capabilities.effective.is_empty());
        assert!(!cleared.config.mounts.iter().any(|m| m.destination == "/a"));
        let none = one("    capabilities: [none]\n", Some(label), None);
        assert!(none.config.process.capabilities.bounding.is_empty());
    }

    #[test]
    fn namespaces_default_to_the_host_but_pid_and_mount() {
        let kinds = |c: &Component| {
            c.config
                .linux
                .namespaces
                .iter()
                .map(|n| (n.kind, n.path.clone()))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            kinds(&one("", None, None)),
            [
                (NamespaceKind::Pid, String::new()),
                (NamespaceKind::Mount, String::new())
            ]
        );
        let c = one(
            "    net: none\n    ipc: new\n    uts: /proc/1/ns/uts\n    pid: host\n    userns: new\n",
            None,
            None,
        );
        assert_eq!(
            kinds(&c),
            [
                (NamespaceKind::Network, String::new()),
                (NamespaceKind::Ipc, String::new()),
                (NamespaceKind::Uts, "/proc/1/ns/uts".into()),
                (NamespaceKind::User, String::new()),
                (NamespaceKind::Mount, String::new()),
            ]
        );
        // The label's namespace applies unless the YAML names one.
        let c = one("", Some(r#"{"net": "new", "pid": "host"}"#), None);
        assert_eq!(
            kinds(&c),
            [
                (NamespaceKind::Network, String::new()),
                (NamespaceKind::Mount, String::new())
            ]
        );
    }

    #[test]
    fn ids_are_allocated_and_resolved_by_name() {
        let list = run(
            "onboot:\n  - name: a\n    image: x:1\nservices:\n  - name: b\n    image: y:1\n    uid: a\n    gid: b\n    additionalGids: [root, 7, a]\n",
            None,
            None,
        );
        assert_eq!((list[0].uid, list[1].uid), (100, 101));
        let user = &list[1].config.process.user;
        assert_eq!((user.uid, user.gid), (100, 101));
        assert_eq!(user.additional_gids, [0, 7, 100]);
    }

    #[test]
    fn volumes_are_resolved_in_binds_and_bind_mounts() {
        let c = run(
            "volumes:\n  - name: data\nservices:\n  - name: s\n    image: x:1\n    binds: [\"data:/data\"]\n    mounts:\n      - type: bind\n        source: data\n        destination: /m\n",
            None,
            None,
        )
        .remove(0);
        let source = |d: &str| {
            c.config
                .mounts
                .iter()
                .find(|m| m.destination == d)
                .unwrap()
                .source
                .clone()
        };
        assert_eq!(source("/data"), "/containers/volumes/data/merged");
        assert_eq!(source("/m"), "/containers/volumes/data/merged");
    }

    #[test]
    fn mounts_tmpfs_binds_override_defaults_by_destination() {
        let c = one(
            "    readonly: true\n    tmpfs: [\"/run:size=1m\"]\n    binds: [\"/dev:/dev\"]\n    mounts:\n      - source: proc\n        options: [ro]\n",
            None,
            None,
        );
        let m = |d: &str| c.config.mounts.iter().find(|m| m.destination == d).cloned().unwrap();
        assert_eq!(m("/dev").kind, "bind");
        assert_eq!(m("/proc").options, ["ro"]);
        assert_eq!(m("/run").options, ["size=1m"]);
        assert_eq!(
            m("/sys").options.last().map(String::as_str),
            Some("ro"),
            "read-only root: /sys ro"
        );
        let destinations: Vec<_> = c.config.mounts.iter().map(|m| m.destination.clone()).collect();
        let mut sorted = destinations.clone();
        sorted.sort();
        assert_eq!(destinations, sorted);
    }

    #[test]
    fn rlimits_devices_resources_and_runtime() {
        let c = one(
            "    rlimits: [\"nofile,10,unlimited\"]\n    devices:\n      - path: /dev/fuse\n        type: c\n        major: 10\n        minor: 229\n        mode: \"0600\"\n      - path: all\n        type: b\n    resources:\n      blockio:\n        weight: 10\n      memory:\n        kernelTCP: 5\n      hugepageLimits:\n        - pageSize: 2MB\n          limit: 1\n    runtime:\n      mkdir: [/var/x]\n      bindNS:\n        net: /run/netns/x\n",
            Some(r#"{"runtime": {"cgroups": ["c"], "bindNS": {"net": "/label", "ipc": "/label-ipc"}}}"#),
            None,
        );
        assert_eq!(
            c.config.process.rlimits,
            [Rlimit {
                kind: "RLIMIT_NOFILE".into(),
                hard: u64::MAX,
                soft: 10
            }]
        );
        assert_eq!(c.config.linux.devices[0].file_mode, 0o600);
        let rules = &c.config.linux.resources.devices;
        assert_eq!(rules.len(), 2);
        assert_eq!((rules[0].major, rules[1].kind.as_deref()), (Some(10), Some("b")));
        // camelCase keys are honoured (LinuxKit drops them).
        assert_eq!(c.config.linux.resources.memory.as_ref().unwrap().kernel_tcp, Some(5));
        assert_eq!(c.config.linux.resources.hugepage_limits[0].page_size, "2MB");
        // runtime.json merges field by field: mkdir from the YAML, cgroups from the label, and each
        // bindNS namespace on its own.
        assert_eq!(c.runtime.mkdir, ["/var/x"]);
        assert_eq!(c.runtime.cgroups, ["c"]);
        assert_eq!(
            (c.runtime.bind_ns.net.as_str(), c.runtime.bind_ns.ipc.as_str()),
            ("/run/netns/x", "/label-ipc")
        );
        let json = String::from_utf8(oci::to_go_json(&c.config).unwrap()).unwrap();
        assert!(
            json.contains("\"blockIO\": {\n                \"weight\": 10"),
            "OCI spells it blockIO:\n{json}"
        );
    }

    #[test]
    fn a_shared_image_is_unpacked_once() {
        let list = run(
            "onboot:\n  - name: a\n    image: x:1\nservices:\n  - name: b\n    image: x:1\n  - name: c\n    image: y:1\n",
            None,
            None,
        );
        let lower = |c: &Component| c.runtime.mounts.last().unwrap().options[0].clone();
        assert_eq!(lower(&list[0]), "lowerdir=/containers/onboot/000-a/lower");
        assert_eq!(lower(&list[1]), "lowerdir=/containers/onboot/000-a/lower");
        assert_eq!(lower(&list[2]), "lowerdir=/containers/services/c/lower");
        assert_eq!(Path::new(&list[1].path), Path::new("containers/services/b"));
    }
}
