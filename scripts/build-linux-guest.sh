#!/bin/bash
# Build the default Linux guests, bootable CD images, from Debian's i386 or
# amd64 packages, without installing any of them on this machine:
#
#   scripts/build-linux-guest.sh [--kernel 686|686-pae|amd64] [--out DIR]
#
#   --kernel  686 (default): linux-image-686, built for the Geode LX: the
#             CPU needs CPUID, TSC, CMPXCHG8B and CMOV, not PAE;
#             686-pae: linux-image-686-pae, which needs PAE as well;
#             amd64: linux-image-amd64 and the amd64 busybox, the 64-bit
#             guest: the CPU needs long mode (CPUID 80000001h:EDX.LM),
#             PAE, NX-capable EFER, SSE2 and FXSR.
#   --out     where the image goes (default: build/guests in the repo).
#
# Output: DIR/linux.iso (DIR/linux-pae.iso for 686-pae, DIR/linux64.iso for
# amd64), with a stamp beside it; a run whose inputs (package versions,
# this script, guest/linux/) are unchanged does nothing. Downloaded
# packages are kept in build/cache/debs.
#
# The image: ISOLINUX (Debian's isolinux and syslinux-common) boots Debian's
# kernel with an initramfs of busybox-static, guest/linux/init, the disk, CD
# and file system drivers that Debian builds as modules, and
# /bin/diskbench (guest/diskbench.c, compiled here with gcc -m32 -static:
# the disk benchmark of bench/disk.sh), the network card drivers and
# guest/linux/udhcpc.script (busybox udhcpc's lease script), and bochs-drm
# with the DRM modules it needs, loaded only by /bin/load-drm
# (guest/linux/load-drm) or twoostwo.drm=1 on the kernel command line. The init
# configures every network card it finds with DHCP, in the background,
# and prints
# TWOOSTWO-LINUX-READY on COM1 and on the screen, then runs a shell on each.
# The amd64 image is made the same way from the amd64 packages (its
# diskbench is compiled without -m32; its kernel has no ISA NE2000 driver).
#
# Needs root the first time only: it adds the i386 architecture to dpkg
# (686 kernels) and updates apt's package lists. Needs gcc-multilib
# (install-deps.sh) for the i386 images.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(git -C "$here" rev-parse --show-toplevel)
inputs=("$here/build-linux-guest.sh" "$root"/guest/linux/* \
	"$root/guest/diskbench.c")
cache=$root/build/cache/debs
out=$root/build/guests
flavor=686
arch=i386

# The drivers the guest needs that Debian's 686 kernels build as modules:
# the PIIX IDE controller, disks, CD-ROMs, the ISO 9660 file system and
# ext4, which also mounts ext2 (CONFIG_EXT4_USE_FOR_EXT2; the kernel has no
# ext2 driver of its own). Their dependencies are found and loaded first.
# crc32c_generic is no dependency by depends=: ext4 and jbd2 ask the crypto
# API for "crc32c" when they mount a file system with metadata checksums,
# and the SSE4.2 crc32c-intel does not load on our CPU.
#
# The network cards' drivers: ne2k-pci (RTL8029, PCI) and 8390, ne (the
# ISA NE2000, loaded by /init with its io= and irq=, not from
# /etc/modules; i386 only: Debian's amd64 kernel has no CONFIG_ISA, so no
# ne.ko, and /init does without) and e1000 (QEMU's e1000, bench/net.sh's
# reference card).
#
# psmouse drives the PS/2 mouse on the 8042's aux port (and the vmmouse
# absolute pointer); /dev/input/mice (mousedev) is built in.
modules=(ata_piix sd_mod sr_mod isofs crc32c_generic ext4 ne2k-pci ne e1000
	psmouse)
# The VM suite: the ACPI power button and its input events (for busybox
# acpid: `twoostwo vm stop`), and the parallel port with the printer
# driver (/dev/lp0).
modules+=(button evdev parport_pc lp)
# Loaded only on request (/bin/load-drm, or twoostwo.drm=1 on the kernel
# command line), since it turns the text console into a framebuffer one:
# bochs-drm for the 1234:1111 VGA and, first, the DRM core and helpers it
# needs that /etc/modules does not have. Listed in /etc/modules.drm.
drm_modules=(bochs)

die() {
	echo "build-linux-guest: $*" >&2
	exit 1
}

usage() {
	sed -n '/^#   scripts/,/^#   --out/p' "$here/build-linux-guest.sh" |
		sed 's/^# \{0,1\}//' >&2
	exit 2
}

parse_args() {
	while [ $# -gt 0 ]; do
		case $1 in
		--kernel)
			[ $# -ge 2 ] || usage
			flavor=$2
			shift 2
			;;
		--out)
			[ $# -ge 2 ] || usage
			out=$2
			shift 2
			;;
		*) usage ;;
		esac
	done
	case $flavor in
	686) iso_name=linux.iso ;;
	686-pae) iso_name=linux-pae.iso ;;
	amd64)
		iso_name=linux64.iso
		arch=amd64
		;;
	*) die "--kernel must be 686, 686-pae or amd64, not '$flavor'" ;;
	esac
	if [ "$arch" = amd64 ]; then
		local m kept=()
		for m in "${modules[@]}"; do
			[ "$m" = ne ] || kept+=("$m")
		done
		modules=("${kept[@]}")
	fi
}

# The package lists know i386 once dpkg does and apt-get update has run
# (nothing to do for the amd64 image on an amd64 host).
ensure_arch() {
	[ "$arch" = "$(dpkg --print-architecture)" ] && return 0
	dpkg --print-foreign-architectures | grep -qx i386 && return 0
	[ "$(id -u)" -eq 0 ] || die "run as root once to add the i386 architecture"
	dpkg --add-architecture i386
}

# apt-get update's exit status is no verdict: with i386 added, one suite's
# i386 index can fail a size check (a mirror mid-sync) while the main suite,
# which has every package needed, updates fine. Callers judge by whether
# the packages can then be resolved and downloaded.
apt_update() {
	if [ "$(id -u)" -ne 0 ]; then
		echo "build-linux-guest: not root: cannot update apt's lists" >&2
		return 0
	fi
	echo "build-linux-guest: apt-get update" >&2
	apt-get update >>"$work/apt.log" 2>&1 || true
}

# Sets pkgs to "name:arch=version" for everything the image is made of.
# linux-image-686 is a metapackage: its one dependency is the real kernel
# package, whose name carries the ABI (linux-image-6.1.0-NN-686).
resolve() {
	local kpkg
	kpkg=$(apt-cache depends "linux-image-$flavor:$arch" 2>/dev/null |
		awk -v arch="$arch" '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ {
			sub(":" arch "$", "", $2); print $2; exit }')
	[ -n "$kpkg" ] || return 1
	# One apt-cache run for all four: each one costs most of a second.
	# Its blocks start "name[:arch]:" and hold "Candidate: version"; the
	# host's own architecture goes unnamed, as do isolinux and
	# syslinux-common, which are Architecture: all.
	mapfile -t pkgs < <(apt-cache policy "$kpkg:$arch" \
		"busybox-static:$arch" isolinux syslinux-common 2>/dev/null |
		awk -v arch="$arch" '
		/^[^ ]/ { name = $1; sub(/:$/, "", name)
			if (name ~ /^(isolinux|syslinux-common)$/)
				name = name ":all"
			else if (name !~ /:/) name = name ":" arch }
		$1 == "Candidate:" && $2 != "(none)" { print name "=" $2 }')
	[ ${#pkgs[@]} -eq 4 ]
}

# The file name apt-get download gives to "name:arch=version".
deb_file() {
	local name=${1%%:*} rest=${1#*:} arch version
	arch=${rest%%=*} version=${rest#*=}
	echo "$cache/${name}_${version//:/%3a}_$arch.deb"
}

missing_debs() {
	local p
	for p in "${pkgs[@]}"; do
		[ -s "$(deb_file "$p")" ] || echo "${p/:all=/=}"
	done
}

download() {
	local need
	mapfile -t need < <(missing_debs)
	[ ${#need[@]} -eq 0 ] && return 0
	echo "build-linux-guest: downloading ${need[*]}" >&2
	(cd "$cache" && apt-get download "${need[@]}") >>"$work/apt.log" 2>&1
}

# Older versions of the packages in use only take space.
prune_cache() {
	local f p keep
	for f in "$cache"/*.deb; do
		[ -e "$f" ] || continue
		keep=0
		for p in "${pkgs[@]}"; do
			[ "$f" = "$(deb_file "$p")" ] && keep=1
		done
		case ${f##*/} in
		linux-image-*-"$flavor"_*_"$arch".deb | \
			busybox-static_*_"$arch".deb | isolinux_* | syslinux-common_*)
			[ $keep -eq 1 ] || rm -f "$f"
			;;
		esac
	done
}

# Resolve and fetch the packages, updating the lists when either fails;
# twice, since one update can be caught by a mirror sync.
fetch() {
	local try
	for try in 1 2 3; do
		if resolve && download; then
			return 0
		fi
		[ $try -lt 3 ] && apt_update
	done
	tail -n 20 "$work/apt.log" >&2
	die "cannot resolve or download the packages (see apt's output above)"
}

# The stamp records everything that decides the image's bytes: first what
# is in the repository, then the package versions.
stamp_local() {
	echo "kernel $flavor"
	echo "compiler $(gcc --version | head -n 1)"
	sha256sum "${inputs[@]}" | sed "s| $root/| |"
}

stamp_text() {
	stamp_local
	printf '%s\n' "${pkgs[@]}"
}

# Up to date without asking apt: the repository's inputs are those of the
# stamp, and apt's lists, the only source of new versions, are older.
fresh_without_apt() {
	local n
	[ -s "$out/$iso_name" ] && [ -r "$stamp" ] || return 1
	n=$(stamp_local | wc -l)
	[ "$(stamp_local)" = "$(head -n "$n" "$stamp")" ] || return 1
	[ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' \
		-newer "$stamp" -print -quit)" ]
}

# The module file $1, uncompressed.
ko_cat() {
	case $1 in
	*.xz) xz -dc "$1" ;;
	*) cat "$1" ;;
	esac
}

# depends= of the module file $1, from its .modinfo strings.
ko_depends() {
	ko_cat "$1" | tr '\0' '\n' | sed -n 's/^depends=//p' | tr ',' ' '
}

# Append module $1 and, first, its dependencies to the load order in
# $work/order (module names spell - and _ alike).
add_module() {
	local name=${1//-/_} dep
	grep -qx "$name" "$work/order" && return 0
	[ -n "${ko[$name]-}" ] || die "kernel has no module $name"
	for dep in $(ko_depends "${ko[$name]}"); do
		add_module "$dep"
	done
	echo "$name" >>"$work/order"
}

# Copy the modules in load order into $1/lib/modules and list them in
# $1/etc/modules. busybox insmod loads plain .ko files only.
stage_modules() {
	local dest=$1 f name
	declare -gA ko=()
	while IFS= read -r f; do
		name=${f##*/}
		name=${name%.ko*}
		ko[${name//-/_}]=$f
	done < <(find "$work/pkg/lib/modules" -name '*.ko' -o -name '*.ko.xz')
	: >"$work/order"
	for name in "${modules[@]}"; do
		add_module "$name"
	done
	local base
	base=$(wc -l <"$work/order")
	for name in "${drm_modules[@]}"; do
		add_module "$name"
	done
	mkdir -p "$dest/lib/modules"
	while read -r name; do
		ko_cat "${ko[$name]}" >"$dest/lib/modules/$name.ko"
		echo "$name.ko"
	done <"$work/order" >"$work/all"
	head -n "$base" "$work/all" >"$dest/etc/modules"
	tail -n +"$((base + 1))" "$work/all" >"$dest/etc/modules.drm"
}

# The guest's disk benchmark, static: the initramfs has no libc.
build_diskbench() {
	local m32=()
	[ "$arch" = i386 ] && m32=(-m32)
	gcc "${m32[@]}" -static -O2 -s -Wall -Wextra -Werror -o "$1" \
		"$root/guest/diskbench.c" 2>"$work/gcc.log" || {
		cat "$work/gcc.log" >&2
		die "gcc ${m32[*]} -static failed: run scripts/install-deps.sh" \
			"(build-essential, gcc-multilib)"
	}
}

# /bin/drmmode (guest/linux/drmmode.c): a KMS mode change on bochs-drm;
# freestanding (its own system calls), a few KiB.
build_drmmode() {
	gcc -m32 -static -nostdlib -ffreestanding -fno-pie -no-pie \
		-fno-stack-protector -fno-asynchronous-unwind-tables \
		-O2 -s -Wall -Wextra -Werror -o "$1" \
		"$root/guest/linux/drmmode.c" 2>"$work/gcc.log" || {
		cat "$work/gcc.log" >&2
		die "gcc -m32 -static failed on drmmode.c"
	}
}

build_initramfs() {
	local rd=$work/initramfs d
	for d in bin dev etc lib mnt proc root sys tmp; do
		mkdir -p "$rd/$d"
	done
	cp "$work/pkg/bin/busybox" "$rd/bin/busybox"
	ln -s busybox "$rd/bin/sh"
	cp "$root/guest/linux/init" "$rd/init"
	cp "$root/guest/linux/udhcpc.script" "$rd/etc/udhcpc.script"
	install -m 755 "$root/guest/linux/load-drm" "$rd/bin/load-drm"
	chmod 755 "$rd/etc/udhcpc.script"
	chmod 755 "$rd/init" "$rd/bin/busybox"
	stage_modules "$rd"
	build_diskbench "$rd/bin/diskbench"
	build_drmmode "$rd/bin/drmmode"
	python3 "$root/guest/linux/mkinitramfs.py" "$rd" "$work/initrd.gz"
}

build_iso() {
	local dir=$work/iso vmlinuz
	mkdir -p "$dir/boot" "$dir/isolinux"
	vmlinuz=$(find "$work/pkg/boot" -name 'vmlinuz-*' -print -quit)
	[ -n "$vmlinuz" ] || die "no /boot/vmlinuz-* in the kernel package"
	kernel_version=${vmlinuz##*/vmlinuz-}
	cp "$vmlinuz" "$dir/boot/vmlinuz"
	cp "$work/initrd.gz" "$dir/boot/initrd.gz"
	cp "$work/pkg/usr/lib/ISOLINUX/isolinux.bin" \
		"$work/pkg/usr/lib/syslinux/modules/bios/ldlinux.c32" \
		"$root/guest/linux/isolinux.cfg" "$dir/isolinux/"
	xorriso -as mkisofs -quiet -V TWOOSTWO-LINUX -R \
		-b isolinux/isolinux.bin -c isolinux/boot.cat -no-emul-boot \
		-boot-load-size 4 -boot-info-table \
		-o "$out/$iso_name.tmp" "$dir" 2>"$work/xorriso.log" ||
		{ cat "$work/xorriso.log" >&2; die "xorriso failed"; }
	mv -f "$out/$iso_name.tmp" "$out/$iso_name"
}

main() {
	local start=$SECONDS p tool
	parse_args "$@"
	for tool in apt-get apt-cache dpkg-deb xorriso python3 xz sha256sum \
		gcc; do
		command -v "$tool" >/dev/null ||
			die "$tool not found: run scripts/install-deps.sh"
	done
	mkdir -p "$cache" "$out"
	work=$(mktemp -d)
	trap 'rm -rf "$work"' EXIT
	stamp=$out/$iso_name.stamp
	if fresh_without_apt; then
		echo "build-linux-guest: $iso_name up to date in $out"
		return 0
	fi

	ensure_arch
	fetch
	if [ -s "$out/$iso_name" ] && [ -r "$stamp" ] &&
		[ "$(stamp_text)" = "$(cat "$stamp")" ]; then
		touch "$stamp"
		echo "build-linux-guest: $iso_name up to date in $out"
		return 0
	fi
	prune_cache

	mkdir -p "$work/pkg"
	for p in "${pkgs[@]}"; do
		dpkg-deb -x "$(deb_file "$p")" "$work/pkg"
	done
	build_initramfs
	build_iso
	stamp_text >"$stamp"
	echo "build-linux-guest: built $iso_name ($(du -k "$out/$iso_name" |
		cut -f1) KiB, kernel $kernel_version) in $out in" \
		"$((SECONDS - start)) s"
}

main "$@"
