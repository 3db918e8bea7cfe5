#!/bin/sh
# sealkit's first stage for a dm-verity root (docs/formats.md): /init of the small initramfs a
# `--verity` build boots, made of the configuration's init images (busybox, dmsetup), the
# kernel's modules and this script. It maps the root disk through dm-verity as the kernel
# command line describes it (signed with the UKI), mounts the squashfs on it read-only under a
# tmpfs overlay, and hands over to the image's own /init there. Every block of the root is
# checked against the root hash when it is read: a changed byte reads as an I/O error.
export PATH=/sbin:/bin:/usr/sbin:/usr/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs -o nosuid,mode=0755 devtmpfs /dev
[ -c /dev/console ] && exec </dev/console >/dev/console 2>&1

stop() {
	# Going on would boot something that was not verified: power off instead.
	echo "sealkit-verity: $*: not booting" >&2
	sync
	poweroff -f
	exit 1
}

device=/dev/vda
verity=
for arg in $(cat /proc/cmdline); do
	case $arg in
	sealkit.verity=*) verity=${arg#sealkit.verity=} ;;
	sealkit.verity.device=*) device=${arg#sealkit.verity.device=} ;;
	esac
done
[ -n "$verity" ] || stop "no sealkit.verity= on the kernel command line"
# BLOCKS:ROOT_HASH:SALT, the hash tree right after the data's BLOCKS 4096-byte blocks.
old_ifs=$IFS
IFS=:
set -- $verity
IFS=$old_ifs
[ $# -eq 3 ] || stop "sealkit.verity=$verity is not BLOCKS:ROOT_HASH:SALT"
blocks=$1 root_hash=$2 salt=$3

# Those the kernel has as modules (the build left out those built in).
for module in $(cat /etc/sealkit/verity-modules); do
	modprobe "$module" || stop "cannot load the $module module"
done
tries=0
while [ ! -b "$device" ]; do
	tries=$((tries + 1))
	[ $tries -le 300 ] || stop "$device did not appear in 30 s"
	sleep 0.1
done

echo "sealkit-verity: $device: $blocks blocks, root hash $root_hash"
DM_DISABLE_UDEV=1 dmsetup create sealkit-root --readonly --noudevsync --table \
	"0 $((blocks * 8)) verity 1 $device $device 4096 4096 $blocks $blocks sha256 $root_hash $salt" ||
	stop "device-mapper refused the verity table"
mkdir -p /lower /rw /sysroot
mount -t squashfs -o ro /dev/mapper/sealkit-root /lower || stop "the verified root does not mount"
mount -t tmpfs -o mode=0755 tmpfs /rw
mkdir -p /rw/upper /rw/work
mount -t overlay -o lowerdir=/lower,upperdir=/rw/upper,workdir=/rw/work overlay /sysroot ||
	stop "cannot mount the overlay over the root"
[ -x /sysroot/init ] || stop "the verified root has no /init"
mkdir -p /sysroot/dev
mount --move /dev /sysroot/dev
umount /proc /sys
exec switch_root /sysroot /init
