#!/bin/bash
# Install everything the build, the tests and the benchmarks need, from
# Debian's packages. Safe to run again: it asks dpkg first and does nothing
# (in well under a second) when every package is already there.
set -euo pipefail

packages=(
	build-essential clang zlib1g-dev git python3 shellcheck
	# libFuzzer and the sanitizer runtimes for clang (fuzz/run.sh)
	libclang-rt-14-dev
	# the sandbox's seccomp filter (src/core/sandbox.c); strace finds the
	# system calls a VM makes
	libseccomp-dev pkg-config strace
	# the DSDT is compiled from ASL at build time
	acpica-tools
	# firmware the machine boots and the emulators compared against
	seabios qemu-system-x86 bochs bochsbios vgabios
	# qemu-img/qemu-io: interoperability tests of the disk formats
	qemu-utils
	# Debian's bochs has no headless display of its own: SDL2 with SDL's
	# dummy video driver is the one that runs without a screen.
	bochs-sdl
	# guest images; gcc-multilib builds their static i386 disk benchmark
	xorriso isolinux syslinux-common mtools gcc-multilib
	# PNG screen dumps; the boot-sector programs of the VGA tests and
	# test386.asm (tests/run-test386.sh) are assembled at test time
	libpng-dev nasm
	# networking: libslirp (NAT), libvdeplug and vde_switch (VDE), iPXE
	# boot ROMs (ipxe-qemu), pcap checks (tshark), namespaces (iproute2)
	libslirp-dev libvdeplug-dev vde2 ipxe-qemu tshark iproute2
	# the VNC server and its web console (noVNC); the VNC guest test's
	# client is built on libvncclient (in libvncserver-dev) and the web
	# console is checked with headless Chromium
	libvncserver-dev novnc chromium
	# benchmarks
	hyperfine
	# the VM suite: vm.ini (INI), saved-state RAM (zstd), export/import
	# (tar); socat for the serial pass-through test
	libinih-dev libzstd-dev libarchive-dev socat
)

missing() {
	local p status
	for p in "${packages[@]}"; do
		status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null) ||
			status=
		[ "$status" = installed ] || echo "$p"
	done
}

mapfile -t need < <(missing)
if [ ${#need[@]} -eq 0 ]; then
	echo "install-deps: all ${#packages[@]} packages present"
	exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: missing ${need[*]}; run as root to install" >&2
	exit 1
fi

log=$(mktemp)
trap 'rm -f "$log"' EXIT
export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture; they need not.
echo 'wireshark-common wireshark-common/install-setuid boolean false' |
	debconf-set-selections
# The package lists may be stale or absent on a fresh machine. An update
# that fails (one unreachable mirror) is not fatal by itself: the install
# below decides.
apt-get update >>"$log" 2>&1 || echo "install-deps: apt-get update failed; trying anyway" >&2
if ! apt-get install -y --no-install-recommends "${need[@]}" >>"$log" 2>&1; then
	tail -n 20 "$log" >&2
	echo "install-deps: could not install ${need[*]}" >&2
	exit 1
fi

mapfile -t still < <(missing)
if [ ${#still[@]} -ne 0 ]; then
	echo "install-deps: still missing ${still[*]}" >&2
	exit 1
fi
echo "install-deps: installed ${need[*]}"
