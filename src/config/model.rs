//! The LinuxKit YAML model: every field LinuxKit's JSON schema (`moby/schema.go`) accepts, with
//! the schema's key spellings. Lists and scalars are `Option` so that "absent" and "explicitly
//! empty" stay distinct: LinuxKit's precedence rules (YAML > label > image) depend on it.
//!
//! Values that later checks may reject carry their source location (`Spanned`), so every error
//! can name a line and column.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize};
pub use serde_saphyr::Spanned;

/// A value with the line and column it was written at.
pub type S<T> = Spanned<T>;

/// `key: ~` or `key:` with no value is almost always a mistake (it does not clear a label's list,
/// and LinuxKit's schema rejects it), so an optional key that is present must hold a value.
fn present<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(deserializer).map(Some)
}

/// One LinuxKit configuration file (or several merged).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub kernel: Option<Kernel>,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub init: Option<Vec<S<String>>>,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub onboot: Option<Vec<S<ImageSpec>>>,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub onshutdown: Option<Vec<S<ImageSpec>>>,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub services: Option<Vec<S<ImageSpec>>>,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub trust: Option<S<Trust>>,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub files: Option<Vec<S<File>>>,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub volumes: Option<Vec<S<Volume>>>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Kernel {
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub image: Option<S<String>>,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub cmdline: Option<String>,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub binary: Option<S<String>>,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub tar: Option<String>,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub ucode: Option<String>,
}

/// The deprecated Docker Content Trust block: parsed so old files still load, never enforced.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Trust {
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub image: Option<Vec<String>>,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub org: Option<Vec<String>>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct File {
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub path: Option<S<String>>,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub directory: Option<bool>,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub symlink: Option<String>,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub contents: Option<String>,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub metadata: Option<S<String>>,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub optional: Option<bool>,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub mode: Option<S<String>>,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub uid: Option<S<Id>>,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub gid: Option<S<Id>>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Volume {
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub name: Option<S<String>>,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub image: Option<S<String>>,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub readonly: Option<bool>,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub format: Option<VolumeFormat>,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub platforms: Option<Vec<String>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum VolumeFormat {
    Oci,
    Filesystem,
}

/// A user or group: a number, or the name of a container (LinuxKit gives each container its own
/// uid/gid, 100 upwards) or `root`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Id {
    Number(u32),
    Name(String),
}

impl<'de> Deserialize<'de> for Id {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct IdVisitor;
        impl serde::de::Visitor<'_> for IdVisitor {
            type Value = Id;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a user/group id from 0 to 4294967295, or a container name")
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Id, E> {
                u32::try_from(v)
                    .map(Id::Number)
                    .map_err(|_| E::custom(format!("id {v} is larger than 4294967295")))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Id, E> {
                u32::try_from(v)
                    .map(Id::Number)
                    .map_err(|_| E::custom(format!("id {v} is not in 0..=4294967295")))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Id, E> {
                Ok(Id::Name(v.to_owned()))
            }
        }
        deserializer.deserialize_any(IdVisitor)
    }
}

/// One container of `onboot`, `onshutdown` or `services`, or (without `name` and `image`) the
/// `org.mobyproject.config` label of an image: LinuxKit validates both against the same schema.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ImageSpec {
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub name: Option<S<String>>,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub image: Option<S<String>>,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub capabilities: Option<Vec<S<String>>>,
    #[serde(
        rename = "capabilities.add",
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub capabilities_add: Option<Vec<S<String>>>,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub ambient: Option<Vec<S<String>>>,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub mounts: Option<Vec<S<Mount>>>,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub binds: Option<Vec<S<String>>>,
    #[serde(
        rename = "binds.add",
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub binds_add: Option<Vec<S<String>>>,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub tmpfs: Option<Vec<S<String>>>,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub devices: Option<Vec<S<Device>>>,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub command: Option<Vec<String>>,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub env: Option<Vec<S<String>>>,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub cwd: Option<S<String>>,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub net: Option<S<String>>,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub pid: Option<S<String>>,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub ipc: Option<S<String>>,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub uts: Option<S<String>>,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub userns: Option<S<String>>,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub readonly: Option<bool>,
    #[serde(
        rename = "maskedPaths",
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub masked_paths: Option<Vec<String>>,
    #[serde(
        rename = "readonlyPaths",
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub readonly_paths: Option<Vec<String>>,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub uid: Option<S<Id>>,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub gid: Option<S<Id>>,
    #[serde(
        rename = "additionalGids",
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub additional_gids: Option<Vec<S<Id>>>,
    #[serde(
        rename = "noNewPrivileges",
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub no_new_privileges: Option<bool>,
    #[serde(
        rename = "oomScoreAdj",
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub oom_score_adj: Option<S<i64>>,
    #[serde(
        rename = "rootfsPropagation",
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub rootfs_propagation: Option<S<String>>,
    #[serde(
        rename = "cgroupsPath",
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub cgroups_path: Option<String>,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub resources: Option<Resources>,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub sysctl: Option<BTreeMap<String, String>>,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub rlimits: Option<Vec<S<String>>>,
    #[serde(
        rename = "uidMappings",
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub uid_mappings: Option<Vec<IdMapping>>,
    #[serde(
        rename = "gidMappings",
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub gid_mappings: Option<Vec<IdMapping>>,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub runtime: Option<Runtime>,
}

/// An OCI mount as LinuxKit's schema spells it (`uidmappings` in lower case).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Mount {
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub destination: Option<String>,
    #[serde(
        rename = "type",
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub kind: Option<String>,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub options: Option<Vec<String>>,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub uidmappings: Option<Vec<IdMapping>>,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub gidmappings: Option<Vec<IdMapping>>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct IdMapping {
    #[serde(rename = "containerID", default)]
    pub container_id: u32,
    #[serde(rename = "hostID", default)]
    pub host_id: u32,
    #[serde(default)]
    pub size: u32,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Device {
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(
        rename = "type",
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub kind: Option<String>,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub major: Option<i64>,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub minor: Option<i64>,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
}

/// OCI `LinuxResources` with the keys LinuxKit's schema allows, camelCase ones included
/// (LinuxKit itself silently drops `kernelTCP`, `hugepageLimits` and the like).
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Resources {
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub devices: Option<Vec<DeviceCgroup>>,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub memory: Option<Memory>,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub cpu: Option<Cpu>,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub pids: Option<Pids>,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub blockio: Option<BlockIo>,
    #[serde(
        rename = "hugepageLimits",
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub hugepage_limits: Option<Vec<HugepageLimit>>,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub network: Option<Network>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DeviceCgroup {
    #[serde(default)]
    pub allow: bool,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub major: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minor: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Memory {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reservation: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub swap: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kernel: Option<i64>,
    #[serde(rename = "kernelTCP", default, skip_serializing_if = "Option::is_none")]
    pub kernel_tcp: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub swappiness: Option<u64>,
    #[serde(rename = "disableOOMKiller", default, skip_serializing_if = "Option::is_none")]
    pub disable_oom_killer: Option<bool>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Cpu {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shares: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quota: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub realtime_runtime: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub realtime_period: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpus: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mems: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Pids {
    #[serde(default)]
    pub limit: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct BlockIo {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub leaf_weight: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight_device: Option<Vec<WeightDevice>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub throttle_read_bps_device: Option<Vec<ThrottleDevice>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub throttle_write_bps_device: Option<Vec<ThrottleDevice>>,
    #[serde(rename = "throttleReadIOPSDevice", default, skip_serializing_if = "Option::is_none")]
    pub throttle_read_iops_device: Option<Vec<ThrottleDevice>>,
    #[serde(rename = "throttleWriteIOPSDevice", default, skip_serializing_if = "Option::is_none")]
    pub throttle_write_iops_device: Option<Vec<ThrottleDevice>>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct WeightDevice {
    #[serde(default)]
    pub major: i64,
    #[serde(default)]
    pub minor: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub leaf_weight: Option<u16>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ThrottleDevice {
    #[serde(default)]
    pub major: i64,
    #[serde(default)]
    pub minor: i64,
    #[serde(default)]
    pub rate: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct HugepageLimit {
    #[serde(rename = "pageSize", default)]
    pub page_size: String,
    #[serde(default)]
    pub limit: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Network {
    #[serde(rename = "classID", default, skip_serializing_if = "Option::is_none")]
    pub class_id: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priorities: Option<Vec<InterfacePriority>>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct InterfacePriority {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub priority: u32,
}

/// What LinuxKit's init applies at boot from `runtime.json`, outside the OCI spec.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Runtime {
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub cgroups: Option<Vec<String>>,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub mounts: Option<Vec<S<Mount>>>,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub mkdir: Option<Vec<String>>,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub interfaces: Option<Vec<Interface>>,
    #[serde(
        rename = "bindNS",
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub bind_ns: Option<BindNamespaces>,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Interface {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub add: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peer: Option<String>,
    #[serde(rename = "createInRoot", default)]
    pub create_in_root: bool,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct BindNamespaces {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cgroup: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ipc: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mnt: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub net: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uts: Option<String>,
}
