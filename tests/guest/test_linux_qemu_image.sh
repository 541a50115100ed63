#!/bin/bash
# Check the Linux guest image itself, under QEMU rather than twoostwo, so that
# a failure here is the image's and not the emulator's: it boots to its
# marker on COM1, answers a command on the serial shell, and powers off.
#
#   tests/guest/test_linux_qemu_image.sh [ISO]
#
# ISO defaults to build/guests/linux.iso, built (or found up to date) first
# by scripts/build-linux-guest.sh. Prints `ok NAME`, `FAIL NAME: why` or
# `skip NAME: why` per check, then "linux-qemu: N passed, N failed"; exits
# non-zero if a check failed. TWOOSTWO_TIMEOUT_SCALE multiplies the waits.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
scale=${TWOOSTWO_TIMEOUT_SCALE:-1}
marker=TWOOSTWO-LINUX-READY
# The shell prompt that guest/linux/init sets, at the root directory.
prompt='twoostwo:/# '

passed=0 failed=0 skipped=0
serial=''
# How much of $serial earlier expects have consumed.
seen=0
qemu_pid=''

ok() {
	echo "ok $1"
	passed=$((passed + 1))
}

fail() {
	echo "FAIL $1: $2"
	failed=$((failed + 1))
}

skip() {
	echo "skip $1: $2"
	skipped=$((skipped + 1))
}

summary() {
	local line="linux-qemu: $passed passed, $failed failed"
	[ "$skipped" -gt 0 ] && line+=", $skipped skipped"
	echo "$line"
	[ "$failed" -eq 0 ]
}

# The last lines the guest wrote, to show with a failure.
show_serial() {
	echo "---- last serial output:"
	printf '%s\n' "$serial" | tr -d '\r' | tail -n 15
	echo "----"
}

# Microseconds: of the clock, and in $1 seconds scaled.
now() {
	echo "${EPOCHREALTIME/./}"
}

scaled_us() {
	awk -v s="$1" -v k="$scale" 'BEGIN { printf "%d", s * k * 1000000 }'
}

# expect TEXT SECONDS: read the serial port until TEXT appears after what
# the previous expect matched; false on timeout or when QEMU ends.
expect() {
	local text=$1 chunk rc deadline before
	deadline=$(($(now) + $(scaled_us "$2")))
	while [[ ${serial:seen} != *"$text"* ]]; do
		[ "$(now)" -lt "$deadline" ] || return 1
		[ -n "${QEMU[0]-}" ] || return 1
		# A timeout keeps the partial input, so a prompt that ends in
		# no newline still arrives.
		IFS= read -r -t 0.2 -N 4096 chunk <&"${QEMU[0]}"
		rc=$?
		serial+=$chunk
		[ $rc -eq 0 ] || [ $rc -gt 128 ] || return 1
	done
	before=${serial:seen}
	before=${before%%"$text"*}
	seen=$((seen + ${#before} + ${#text}))
}

send() {
	printf '%s\n' "$1" >&"${QEMU[1]}"
}

# True once QEMU has exited by itself, waiting at most $1 seconds.
qemu_exited() {
	local deadline
	deadline=$(($(now) + $(scaled_us "$1")))
	while [ "$(now)" -lt "$deadline" ]; do
		kill -0 "$qemu_pid" 2>/dev/null || return 0
		sleep 0.1
	done
	return 1
}

stop_qemu() {
	if [ -n "$qemu_pid" ] && kill -0 "$qemu_pid" 2>/dev/null; then
		kill "$qemu_pid"
		wait "$qemu_pid" 2>/dev/null
	fi
}

check_boot() {
	local start=$1 ms
	if ! expect "$marker" 60; then
		fail boot_marker "no $marker on COM1 within 60 s"
		show_serial
		return 1
	fi
	ms=$((($(now) - start) / 1000))
	echo "# marker after $((ms / 1000)).$(printf '%03d' $((ms % 1000))) s"
	ok boot_marker
}

check_shell() {
	if ! expect "$prompt" 30; then
		fail serial_shell "no shell prompt on COM1"
		show_serial
		return 1
	fi
	send 'cat /proc/cpuinfo | head -5'
	if ! expect 'vendor_id' 30 || ! expect "$prompt" 30; then
		fail serial_shell "no /proc/cpuinfo from the serial shell"
		show_serial
		return 1
	fi
	ok serial_shell
}

check_poweroff() {
	send 'poweroff -f'
	if ! qemu_exited 30; then
		fail poweroff "QEMU still running 30 s after poweroff -f"
		return 1
	fi
	ok poweroff
}

main() {
	local iso=${1:-} start
	if [ -z "$iso" ]; then
		iso=$root/build/guests/linux.iso
		if ! "$root/scripts/build-linux-guest.sh" >/dev/null; then
			fail build "scripts/build-linux-guest.sh failed"
			summary
			return
		fi
	fi
	if ! command -v qemu-system-i386 >/dev/null; then
		skip boot_marker "qemu-system-i386 not installed"
		summary
		return
	fi
	[ -r "$iso" ] || { fail boot_marker "cannot read $iso"; summary; return; }

	trap stop_qemu EXIT
	start=$(now)
	# -no-reboot: a kernel panic ends QEMU instead of booting again.
	coproc QEMU {
		exec qemu-system-i386 -accel tcg -M pc -m 256 -display none \
			-monitor none -serial stdio -no-reboot \
			-cdrom "$iso" -boot d 2>&1
	}
	# shellcheck disable=SC2153 # set by coproc
	qemu_pid=$QEMU_PID
	check_boot "$start" && check_shell && check_poweroff
	summary
}

main "$@"
