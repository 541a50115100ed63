#!/bin/bash
# Run twoostwo-cputest on the 8086 and 80286 SingleStepTests suites
# (shared/specs/CPU-TESTS.md) and print each suite's totals and a combined
# "N passed, N failed" line. Fails if either suite passes fewer than
# MIN_PASS percent of its tests (default 99.5) or could not run.
#
# usage: tests/run-cputests.sh [path/to/twoostwo-cputest] [extra options]
set -u

repo=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:-$repo/build/twoostwo-cputest}
[ $# -gt 0 ] && shift
shared=${TWOOSTWO_SHARED:-$(dirname "$repo")/shared}
min_pass=${MIN_PASS:-99.5}

if [ ! -x "$bin" ]; then
	echo "run-cputests: $bin not built" >&2
	exit 2
fi

passed=0 failed=0 status=0
for suite in 8086 80286; do
	dir=$shared/cpu-tests/$suite
	if [ ! -d "$dir" ]; then
		echo "run-cputests: $dir absent" >&2
		status=1
		continue
	fi
	out=$("$bin" --min-pass "$min_pass" "$@" "$dir")
	rc=$?
	# Failing files and the suite's percentage and totals lines.
	printf '%s\n' "$out" | grep -E '^(FAIL|SKIP) ' | head -40
	printf '%s\n' "$out" | grep -E '% passed' | tail -1
	line=$(printf '%s\n' "$out" | grep -E '^[0-9]+ passed, [0-9]+ failed$' |
	       tail -1)
	if [ -z "$line" ]; then
		echo "run-cputests: $suite: no totals (exit $rc)" >&2
		status=1
		continue
	fi
	echo "$suite: $line"
	passed=$((passed + $(echo "$line" | awk '{print $1}')))
	failed=$((failed + $(echo "$line" | awk '{print $3}')))
	[ $rc -ne 0 ] && status=1
done
echo "$passed passed, $failed failed"
exit $status
