#!/bin/bash
# Run every unit-test binary given; print a total line and fail if any failed.
passed=0 failed=0
for t in "$@"; do
	out=$("$t" 2>&1); rc=$?
	line=$(printf '%s\n' "$out" | grep -E '^[0-9]+ passed, [0-9]+ failed' | tail -1)
	p=$(echo "$line" | awk '{print $1}'); f=$(echo "$line" | awk '{print $3}')
	if [ -z "$line" ] || [ $rc -ne 0 ]; then
		printf '%s\n' "$out"
		echo "FAIL $t (exit $rc)"
		[ -z "$line" ] && f=$((${f:-0} + 1))
	else
		echo "ok   $t: $line"
		# Parts a host cannot run stay visible (never a silent pass).
		printf '%s\n' "$out" | grep '^SKIPPED' | sed 's/^/     /'
	fi
	passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0}))
done
echo "unit: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
