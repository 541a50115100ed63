#!/bin/bash
# SPDX-License-Identifier: MIT
# VGA benchmark: the same boot-sector program (tests/guest/vga_modes.asm
# built with -DBENCH) in twoostwo and in QEMU (qemu-system-i386 -accel tcg
# -vga std), one after the other. It fills the whole 1024x768x32 linear
# framebuffer (rep stosd, one colour per frame) for 5 RTC seconds, then the
# mode 0x12 planes (write mode 2, one byte per 8 pixels, with a latch load)
# for 5 more, then mode 0x13 (rep stosw over the chain-4 window) for 5
# more, and prints the frames counted on port 0x402. Neither
# emulator has a viewer attached (twoostwo --display none, QEMU -display
# none): this is the guest's drawing speed, not a display's.
#
# usage: bench/vga.sh        binary under test: $TWOOSTWO (build/twoostwo)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
twoostwo=${TWOOSTWO:-$root/build/twoostwo}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

nasm -f bin -DBENCH -o "$tmp/vga.img" "$root/tests/guest/vga_modes.asm"
truncate -s 1M "$tmp/vga.img"

# run NAME COMMAND...: the debug log must say DONE within 60 s
run() {
	local name=$1 log=$tmp/$1.log
	shift
	: >"$log"
	"$@" >/dev/null 2>&1 &
	local pid=$!
	for _ in $(seq 600); do
		grep -q "VGATEST DONE" "$log" 2>/dev/null && break
		sleep 0.1
	done
	kill "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	lfb=$(sed -n 's/^LFB \([0-9]*\)$/\1/p' "$log")
	planar=$(sed -n 's/^PLANAR \([0-9]*\)$/\1/p' "$log")
	m13=$(sed -n 's/^MODE13 \([0-9]*\)$/\1/p' "$log")
	printf '| %s | %s | %s | %s |\n' "$name" \
		"$(awk -v n="${lfb:-0}" 'BEGIN { printf "%.1f", n / 5 }')" \
		"$(awk -v n="${planar:-0}" 'BEGIN { printf "%.1f", n / 5 }')" \
		"$(awk -v n="${m13:-0}" 'BEGIN { printf "%.1f", n / 5 }')"
}

echo '| emulator  | LFB 1024x768x32 fills/s | mode 0x12 fills/s | mode 0x13 fills/s |'
echo '|---|---|---|---|'
run twoostwo "$twoostwo" run --hda "$tmp/vga.img,ro" --boot disk \
	--display none --serial none --debug-log "$tmp/twoostwo.log" \
	--timeout 60
run qemu qemu-system-i386 -accel tcg -vga std -display none -m 128 \
	-drive "file=$tmp/vga.img,format=raw,if=ide,snapshot=on" \
	-debugcon "file:$tmp/qemu.log" -global isa-debugcon.iobase=0x402 \
	-serial none -monitor none
