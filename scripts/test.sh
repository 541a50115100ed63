#!/bin/bash
# The whole test suite, as CI runs it (.ci/run):
#   install the dependencies, build the guest images, lint the scripts,
#   build, `make check` (unit, CPU, guest tests), `make check-asan` (the
#   same with AddressSanitizer + UBSan), and check the guest-test harness
#   itself against QEMU.
# Prints one line per step with its totals, then "steps: N passed, N failed";
# exits non-zero if any step failed. Each step's full output is kept in
# build/test-logs/; a failing step's end is printed.
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root" || exit 1
logs=$root/build/test-logs
mkdir -p "$logs"
export PYTHONDONTWRITEBYTECODE=1

passed=0 failed=0
suite_start=$SECONDS

# The "[word: ]N passed, N failed[, N skipped]" lines of a log, joined.
totals() {
	grep -E '^([A-Za-z0-9_-]+: )?[0-9]+ passed, [0-9]+ failed' "$1" |
		paste -sd';' | sed 's/;/; /g'
}

# step NAME LIMIT_SECONDS COMMAND...: run, log, report; false on failure.
step() {
	local name=$1 limit=$2 log=$logs/$1.log start=$SECONDS rc sums
	shift 2
	# Through bash, so that a step can be one of the functions below.
	timeout -k 10 "$limit" bash -c '"$@"' "$name" "$@" >"$log" 2>&1
	rc=$?
	sums=$(totals "$log")
	if [ $rc -eq 0 ]; then
		passed=$((passed + 1))
		printf 'ok   %-14s %4ds  %s\n' "$name" $((SECONDS - start)) "$sums"
		return 0
	fi
	failed=$((failed + 1))
	[ $rc -eq 124 ] && sums="timed out after ${limit}s; $sums"
	printf 'FAIL %-14s %4ds  exit %d  %s\n' "$name" $((SECONDS - start)) \
		$rc "$sums"
	# The failed checks first: the end of the log may be one check's
	# diagnostics only.
	echo "---- failed checks in $log:"
	grep -E '^(FAIL|not ok)\b' "$log" | head -n 20
	echo "---- end of $log:"
	tail -n 60 "$log"
	echo "----"
	return 1
}

lint() {
	local py
	shellcheck scripts/install-deps.sh scripts/build-guests.sh \
		scripts/build-linux-guest.sh scripts/quickstart.sh \
		scripts/test.sh tests/guest/run-all.sh tests/run-test386.sh \
		tests/guest/test_linux_qemu_image.sh bench/*.sh .ci/run \
		fuzz/run.sh || return 1
	for py in tests/guest/*.py tests/guest/qemu-twoostwo bench/*.py; do
		python3 -c 'import ast, sys; ast.parse(open(sys.argv[1]).read())' \
			"$py" || return 1
	done
}

# The guest tests against QEMU: shows that the harness, the images and the
# hand-assembled ROMs are right, whatever twoostwo does. QEMU 7.2 aborts on
# the port fuzz (an assertion on a word write to its 16550), and its CPU is
# not ours (linux_cpuinfo checks our CPUID), so those two are left out. The
# files that test twoostwo's own interfaces (--net back ends, VNC, the VM
# suite, the sandbox, PNG screen dumps through the control socket) have no
# QEMU stand-in and are not run here.
harness_selfcheck() {
	local here=tests/guest
	TWOOSTWO=$here/qemu-twoostwo \
		TWOOSTWO_GUEST_SKIP="port_fuzz linux_cpuinfo" \
		$here/run-all.sh $here/test_bad_input.py \
		$here/test_crash_safety.py $here/test_firmware.py \
		$here/test_freedos.py $here/test_isolinux.py \
		$here/test_linux.py $here/test_linux64.py $here/test_linux_drives.py \
		$here/test_linux_hdd.py $here/test_malformed_images.py \
		$here/test_roms.py
}

export -f lint harness_selfcheck

summary() {
	echo "total time $((SECONDS - suite_start))s; logs in $logs"
	echo "steps: $passed passed, $failed failed"
	[ "$failed" -eq 0 ]
}

if ! step install-deps 1200 scripts/install-deps.sh; then
	summary
	exit 1
fi
# Two Linux images (i386 and amd64) take about 45 s each to build from the
# cached packages on a loaded 2-core machine.
step guest-images 240 scripts/build-guests.sh
step lint 120 lint
if step build 900 make -j2; then
	step check 900 make -j2 check
	# Sanitizers slow the CPU engine several times over: one boot of each
	# Linux guest (the reboot checks are left to the plain build) keeps
	# this in time.
	step check-asan 3000 env TWOOSTWO_TIMEOUT_SCALE=4 \
		TWOOSTWO_GUEST_SKIP="linux_reboot linux64_reboot" make -j2 check-asan
fi
step harness-qemu 600 harness_selfcheck
# Five harnesses (hdd, xml, ne2000, vga, machine) share 90 s (long runs
# are made by hand: docs/SECURITY.md); building
# fuzz_machine (every source, ASan + UBSan) takes about another minute.
step fuzz 390 fuzz/run.sh 90
summary
