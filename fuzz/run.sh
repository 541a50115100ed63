#!/bin/bash
# SPDX-License-Identifier: MIT
# Build the image fuzzers (libFuzzer, ASan + UBSan) into build/fuzz/ and
# run each for a share of a bounded time:
#   fuzz_hdd  any bytes as an image file behind block_open (raw, .hdd)
#   fuzz_xml  any bytes as a bundle's DiskDescriptor.xml
#   fuzz_ne2000  any bytes as port I/O, PCI config writes and received
#             frames on the NE2000 (ISA) and RTL8029AS (PCI) cards
#   fuzz_vga  a program of VGA/VBE register, window, LFB and BAR2 accesses
#             with renders, against 1 MiB of video memory
#   fuzz_machine  the whole PC, both network cards included, driven by
#             guest actions (port, MMIO, DMA, interrupt acknowledge, time,
#             frames off the wire, failing disk and network requests,
#             structured IDE/ATAPI/VBE/NE2000 conversations); see
#             fuzz/fuzz_machine.c
#
# FUZZ_SKIP_BUILD=1 reuses build/fuzz/fuzz_NAME when it exists; FUZZ_ARGS
# adds libFuzzer options (e.g. -print_coverage=1).
#
# usage: fuzz/run.sh [SECONDS [HARNESS...]]   (default 60, all harnesses)
#
# SECONDS is split evenly between the harnesses. Seeds come from
# fuzz/corpus/NAME/ and are never written to; inputs the fuzzer finds go
# to build/fuzz/corpus-NAME/, a crashing input to build/fuzz/NAME-crash-*
# (or leak-*, timeout-*, oom-*). Prints each harness's executions and
# crashes, then "fuzz: N passed, N failed"; exits non-zero on a crash or
# if a harness does not build.
set -u

seconds=${1:-60}
case $seconds in
'' | *[!0-9]*)
	echo "usage: $0 [SECONDS [HARNESS...]]" >&2
	exit 2
	;;
esac
shift $(($# > 0 ? 1 : 0))
harnesses=("$@")
[ ${#harnesses[@]} -gt 0 ] || harnesses=(hdd xml ne2000 vga machine)

cd "$(dirname "$0")/.." || exit 1
out=build/fuzz
mkdir -p "$out" || exit 1
share=$((seconds / ${#harnesses[@]}))
[ "$share" -gt 0 ] || share=1
passed=0
failed=0

artifacts() {
	find "$out" -maxdepth 1 -type f \( -name "$1-crash-*" -o \
		-name "$1-leak-*" -o -name "$1-timeout-*" -o -name "$1-oom-*" \)
}

# sources NAME: the library sources a harness links (small, quick to
# build): the block layer and what it uses (logger, event loop for the I/O
# workers), the NE2000 cards and the buses and net port they sit on, or the
# VGA adapter and its display surface.
sources() {
	case $1 in
	ne2000)
		echo src/hw/dp8390.c src/hw/ne2000_isa.c src/hw/rtl8029.c \
			src/bus/pio.c src/bus/pci.c src/bus/memory.c \
			src/bus/io_trace.c src/net/net.c src/net/pcap.c \
			src/core/log.c src/core/snapshot.c src/core/timer.c -lz
		;;
	vga)
		echo src/hw/vga.c src/hw/vga_mem.c src/hw/vga_render.c src/hw/vga_edid.c \
			src/bus/memory.c src/bus/pci.c src/bus/pio.c \
			src/bus/io_trace.c src/ui/display.c src/core/log.c \
			src/core/timer.c src/core/snapshot.c
		;;
	*)
		echo src/block/*.c src/core/log.c src/core/evloop.c \
			src/core/timer.c
		;;
	esac
}

# fuzz_build NAME BIN: the harness with ASan + UBSan and the Makefile's
# warnings. The device and image harnesses take only what they exercise
# (sources above): small, and quick to build. The machine harness takes
# every source but the programs' mains and libslirp's back end (the
# harness's own back end stands in for `nat`), with the fake clock
# (core/clock.h) so its runs are deterministic.
fuzz_build() {
	local name=$1 bin=$2 srcs extra=()

	if [ "$name" = machine ]; then
		make -s build/gen/dsdt_aml.h || return 1
		srcs=$(find src -name '*.c' ! -path src/cli/main.c \
			! -path src/cli/cputest_main.c \
			! -path src/cli/hostdiff_main.c \
			! -path src/net/slirp.c | sort)
		extra=(-DTWOOSTWO_FAKE_CLOCK -Ibuild/gen -lseccomp -lz -lm -lpng
			-lslirp -lvdeplug -lzstd -linih -larchive -lvncserver)
	else
		srcs=$(sources "$name")
	fi
	# shellcheck disable=SC2086 # srcs is a list of paths without spaces
	clang -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=all -g -O1 -std=gnu11 -Isrc \
		-D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow \
		-Wno-unused-parameter -Wmissing-prototypes \
		-fno-strict-aliasing "fuzz/fuzz_$name.c" $srcs \
		-lpthread "${extra[@]}" -o "$bin"
}

# fuzz_one NAME: build fuzz/fuzz_NAME.c, run it for $share seconds.
fuzz_one() {
	local name=$1 bin=$out/fuzz_$1 log=$out/fuzz_$1.log
	local rc execs crashes

	mkdir -p "$out/corpus-$name" || return 1
	artifacts "$name" | xargs -r rm -f
	if [ "${FUZZ_SKIP_BUILD:-0}" = 1 ] && [ -x "$bin" ]; then
		:
	elif ! fuzz_build "$name" "$bin"; then
		echo "fuzz_$name: build failed (clang with libclang-rt for" \
			"libFuzzer needed)"
		return 1
	fi
	# FUZZ_ARGS is a list of options: split on spaces on purpose.
	# shellcheck disable=SC2086
	# The outer timeout only catches a hung fuzzer; -max_total_time is
	# the real bound.
	timeout $((share + 120)) "$bin" -max_total_time="$share" \
		-timeout=10 -rss_limit_mb=2048 -max_len=16384 \
		-print_final_stats=1 -artifact_prefix="$out/$name-" \
		${FUZZ_ARGS:-} \
		"$out/corpus-$name" "fuzz/corpus/$name" >"$log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\).*/\1/p' \
		"$log" | tail -n 1)
	[ -n "$execs" ] ||
		execs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$log" |
			tail -n 1)
	crashes=$(artifacts "$name" | wc -l)
	[ $rc -ne 0 ] && [ "$crashes" -eq 0 ] && crashes=1
	echo "fuzz_$name: ${execs:-0} executions in ${share}s, $crashes" \
		"crashes (log: $log)"
	[ "$crashes" -eq 0 ] && return 0
	grep -m 1 -A 20 '^==[0-9]*==ERROR\|runtime error' "$log"
	artifacts "$name"
	return 1
}

for h in "${harnesses[@]}"; do
	if [ ! -f "fuzz/fuzz_$h.c" ]; then
		echo "fuzz: no harness fuzz/fuzz_$h.c" >&2
		failed=$((failed + 1))
	elif fuzz_one "$h"; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
	fi
done
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
