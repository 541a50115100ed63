#!/bin/bash
# Build the guest images that the guest tests and the benchmarks boot.
#
#   scripts/build-guests.sh [OUTDIR]      (default: build/guests in the repo)
#
# Each image is rebuilt only when it is missing or older than its inputs
# (including this script). Inputs: the FreeDOS boot floppy in shared/guests
# (shared/ lives beside the repository; override with TWOOSTWO_SHARED) and
# Debian's isolinux/syslinux-common packages.
#
#   freedos.iso        El Torito floppy emulation of the FreeDOS boot floppy:
#                      boots to A:\> on the VGA text screen.
#   freedos-bench.iso  the same, with AUTOEXEC.BAT ending in a line that
#                      writes TWOOSTWO-DOS-READY to COM1, so a run can be
#                      timed on the serial port by any emulator.
#   isolinux.iso       ISOLINUX with a config that shows its banner and
#                      TWOOSTWO-ISOLINUX-OK on screen, its banner and the
#                      "boot:" prompt on COM1, then waits at that prompt.
#   linux.iso          the default Linux guest, built (or found up to date)
#                      by scripts/build-linux-guest.sh from Debian's i386
#                      packages: prints TWOOSTWO-LINUX-READY on COM1 and on
#                      screen, then runs a root shell on COM1.
#   linux64.iso        the 64-bit Linux guest, the same from Debian's amd64
#                      packages (linux-image-amd64, busybox-static:amd64):
#                      needs a CPU with long mode.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(git -C "$here" rev-parse --show-toplevel)
shared=${TWOOSTWO_SHARED:-"$(dirname "$root")/shared"}
out=${1:-"$root/build/guests"}

floppy_name=freedos-boot-1.44M.img
floppy=$shared/guests/$floppy_name
isolinux_bin=/usr/lib/ISOLINUX/isolinux.bin
ldlinux_c32=/usr/lib/syslinux/modules/bios/ldlinux.c32
self=$here/build-guests.sh

# Markers the benchmarks and guest tests look for: keep them in step.
DOS_MARKER=TWOOSTWO-DOS-READY
ISOLINUX_MARKER=TWOOSTWO-ISOLINUX-OK

die() {
	echo "build-guests: $*" >&2
	exit 1
}

# True when $1 is missing or older than any of the other arguments.
stale() {
	local target=$1 input
	shift
	[ -e "$target" ] || return 0
	for input in "$@"; do
		[ "$input" -nt "$target" ] && return 0
	done
	return 1
}

# mkisofs FLAGS... -- OUT DIR: build an ISO quietly into OUT, atomically.
mkiso() {
	local args=() iso dir
	while [ "$1" != -- ]; do
		args+=("$1")
		shift
	done
	iso=$2 dir=$3
	xorriso -as mkisofs -quiet -V TWOOSTWO "${args[@]}" \
		-o "$iso.tmp" "$dir" 2>"$work/xorriso.log" ||
		{ cat "$work/xorriso.log" >&2; die "xorriso failed for $iso"; }
	mv -f "$iso.tmp" "$iso"
}

build_freedos() {
	local dir=$work/freedos
	mkdir -p "$dir"
	cp "$floppy" "$dir/$floppy_name"
	mkiso -b "$floppy_name" -- "$out/freedos.iso" "$dir"
}

build_freedos_bench() {
	local dir=$work/freedos-bench img
	mkdir -p "$dir"
	img=$dir/$floppy_name
	cp "$floppy" "$img"
	# FreeDOS COMMAND.COM redirects to the COM1 device like MS-DOS does;
	# the kernel's COM1 driver writes through INT 14h, which SeaBIOS
	# provides. The original file ends in "cls" without a newline.
	{
		mtype -i "$img" ::AUTOEXEC.BAT
		printf '\r\nECHO %s > COM1\r\n' "$DOS_MARKER"
	} >"$work/AUTOEXEC.BAT"
	mcopy -o -i "$img" "$work/AUTOEXEC.BAT" ::AUTOEXEC.BAT
	mkiso -b "$floppy_name" -- "$out/freedos-bench.iso" "$dir"
}

build_isolinux() {
	local dir=$work/isolinux
	mkdir -p "$dir/isolinux"
	cp "$isolinux_bin" "$ldlinux_c32" "$dir/isolinux/"
	# ISOLINUX starts its serial console only after it has parsed this
	# file, so the SAY line reaches the screen alone (seen under QEMU);
	# COM1 gets the banner and the "boot:" prompt.
	printf '%s\n' 'SERIAL 0 115200' 'PROMPT 1' 'TIMEOUT 0' \
		"SAY $ISOLINUX_MARKER" >"$dir/isolinux/isolinux.cfg"
	mkiso -b isolinux/isolinux.bin -c isolinux/boot.cat -no-emul-boot \
		-boot-load-size 4 -boot-info-table -- "$out/isolinux.iso" "$dir"
}

main() {
	local built=()
	[ -r "$floppy" ] || die "missing $floppy (set TWOOSTWO_SHARED)"
	for tool in xorriso mtype mcopy; do
		command -v "$tool" >/dev/null ||
			die "$tool not found: run scripts/install-deps.sh"
	done
	if [ ! -r "$isolinux_bin" ] || [ ! -r "$ldlinux_c32" ]; then
		die "isolinux not installed: run scripts/install-deps.sh"
	fi
	mkdir -p "$out"
	work=$(mktemp -d)
	trap 'rm -rf "$work"' EXIT

	if stale "$out/freedos.iso" "$floppy" "$self"; then
		build_freedos
		built+=(freedos.iso)
	fi
	if stale "$out/freedos-bench.iso" "$floppy" "$self"; then
		build_freedos_bench
		built+=(freedos-bench.iso)
	fi
	if stale "$out/isolinux.iso" "$isolinux_bin" "$ldlinux_c32" "$self"; then
		build_isolinux
		built+=(isolinux.iso)
	fi
	if [ ${#built[@]} -eq 0 ]; then
		echo "build-guests: up to date in $out"
	else
		echo "build-guests: built ${built[*]} in $out"
	fi
	# It keeps its own stamp of what the image is made of.
	"$here/build-linux-guest.sh" --out "$out"
	"$here/build-linux-guest.sh" --kernel amd64 --out "$out"
}

main
