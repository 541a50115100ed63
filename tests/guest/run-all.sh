#!/bin/bash
# Boot real guests and hostile firmware in twoostwo and check what they
# show. Runs every tests/guest/test_*.py (two files at a time on a machine
# with two CPUs: TWOOSTWO_GUEST_JOBS), then prints
#   guest: N passed, N failed[, N skipped]
# and exits non-zero if any check failed.
#
#   TWOOSTWO=build/twoostwo tests/guest/run-all.sh [TEST_FILE...]
#
# TWOOSTWO (default build/twoostwo) is the binary under test; see
# harness.py for the other variables. The guest images are built first
# (scripts/build-guests.sh: nothing to do when they are up to date).
set -uo pipefail
export PYTHONDONTWRITEBYTECODE=1

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
export TWOOSTWO=${TWOOSTWO:-$root/build/twoostwo}
export TWOOSTWO_GUESTS=${TWOOSTWO_GUESTS:-$root/build/guests}
scale=${TWOOSTWO_TIMEOUT_SCALE:-1}
# The longest test file takes a few minutes even when every wait runs to
# its timeout; past this it is hung.
limit=$(awk -v s="$scale" 'BEGIN { printf "%d", 600 * s }')

if [ ! -x "$TWOOSTWO" ]; then
	echo "run-all: $TWOOSTWO is not an executable: build it first" >&2
	echo "guest: 0 passed, 1 failed"
	exit 1
fi
if ! "$root/scripts/build-guests.sh" "$TWOOSTWO_GUESTS" >/dev/null; then
	echo "guest: 0 passed, 1 failed"
	exit 1
fi

if [ $# -eq 0 ]; then
	# The longest files first, so that the two queues end together
	# (their times are printed below; these take minutes, the rest less).
	slow=(test_linux64 test_linux test_vm_suite test_linux_net
		test_linux_hdd test_linux_netboot)
	set --
	for t in "${slow[@]}"; do
		[ -f "$here/$t.py" ] && set -- "$@" "$here/$t.py"
	done
	for t in "$here"/test_*.py; do
		[[ " ${slow[*]} " == *" $(basename "$t" .py) "* ]] ||
			set -- "$@" "$t"
	done
fi

# Test files are independent (each makes its own folders, sockets and
# ports): run TWOOSTWO_GUEST_JOBS of them at once (default: one per CPU,
# at most 2) and print each file's output whole, in the order given.
jobs=${TWOOSTWO_GUEST_JOBS:-$(nproc 2>/dev/null || echo 1)}
[ "$jobs" -gt 2 ] && jobs=2
outdir=$(mktemp -d)
trap 'rm -rf "$outdir"' EXIT

# run_one INDEX FILE: the file's output and its exit status into outdir.
run_one() {
	local out=$outdir/$1 start=$SECONDS
	timeout -k 10 "$limit" python3 "$2" >"$out.out" 2>&1
	echo $? >"$out.rc"
	echo $((SECONDS - start)) >"$out.secs"
}
export -f run_one
export outdir limit

# queue_all: "INDEX\0FILE\0" for each test file, for xargs.
queue_all() {
	local i=0 t
	for t in "$@"; do
		printf '%d\0%s\0' "$i" "$t"
		i=$((i + 1))
	done
}
# shellcheck disable=SC2016 # $0 and $1 are expanded by that bash
queue_all "$@" | xargs -0 -n 2 -P "$jobs" bash -c 'run_one "$0" "$1"'

passed=0 failed=0 skipped=0
i=0
for t in "$@"; do
	name=$(basename "$t" .py)
	echo "== $name ($(cat "$outdir/$i.secs" 2>/dev/null || echo '?') s)"
	out=$(cat "$outdir/$i.out" 2>/dev/null)
	rc=$(cat "$outdir/$i.rc" 2>/dev/null || echo 1)
	i=$((i + 1))
	printf '%s\n' "$out"
	p=$(grep -c '^ok ' <<<"$out")
	f=$(grep -c '^FAIL ' <<<"$out")
	s=$(grep -c '^skip ' <<<"$out")
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		# The file itself broke (or hung): count that as a failure.
		if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
			echo "FAIL $name: still running after ${limit} s"
		else
			echo "FAIL $name: exit status $rc"
		fi
		f=1
	fi
	passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
done

if [ "$skipped" -gt 0 ]; then
	echo "guest: $passed passed, $failed failed, $skipped skipped"
else
	echo "guest: $passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
