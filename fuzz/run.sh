#!/bin/bash
# SPDX-License-Identifier: MIT
# Build the Parallels/raw image fuzzer (libFuzzer, ASan + UBSan) into
# build/fuzz/ and run it for a bounded time.
#
# usage: fuzz/run.sh [SECONDS]   (default 60)
#
# Seeds come from fuzz/corpus/hdd/ and are never written to; inputs the
# fuzzer finds go to build/fuzz/corpus-hdd/, a crashing input to
# build/fuzz/crash-* (or leak-*, timeout-*, oom-*). Prints the number of
# executions and crashes, then "fuzz: N passed, N failed"; exits non-zero
# on a crash or if the harness does not build.
set -u

seconds=${1:-60}
case $seconds in
'' | *[!0-9]*)
	echo "usage: $0 [SECONDS]" >&2
	exit 2
	;;
esac

cd "$(dirname "$0")/.." || exit 1
out=build/fuzz
bin=$out/fuzz_hdd
log=$out/fuzz_hdd.log
mkdir -p "$out/corpus-hdd" || exit 1
rm -f "$out"/crash-* "$out"/leak-* "$out"/timeout-* "$out"/oom-*

# Only the block layer and the logger: small, and quick to build.
if ! clang -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	-g -O1 -std=gnu11 -Isrc -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow \
	-Wmissing-prototypes fuzz/fuzz_hdd.c src/block/*.c src/core/log.c \
	-o "$bin"; then
	echo "fuzz: build failed (clang with libclang-rt for libFuzzer needed)"
	echo "fuzz: 0 passed, 1 failed"
	exit 1
fi

# The outer timeout only catches a hung fuzzer; -max_total_time is the
# real bound.
timeout $((seconds + 120)) "$bin" -max_total_time="$seconds" \
	-timeout=10 -rss_limit_mb=2048 -max_len=16384 -print_final_stats=1 \
	-artifact_prefix="$out/" "$out/corpus-hdd" fuzz/corpus/hdd \
	>"$log" 2>&1
rc=$?

execs=$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\).*/\1/p' \
	"$log" | tail -n 1)
[ -n "$execs" ] ||
	execs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$log" | tail -n 1)
crashes=$(find "$out" -maxdepth 1 -type f \( -name 'crash-*' -o \
	-name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \) | wc -l)
[ $rc -ne 0 ] && [ "$crashes" -eq 0 ] && crashes=1

echo "fuzz: ${execs:-0} executions in ${seconds}s, $crashes crashes" \
	"(log: $log)"
if [ "$crashes" -ne 0 ]; then
	grep -m 1 -A 20 '^==[0-9]*==ERROR\|runtime error' "$log"
	find "$out" -maxdepth 1 -type f \( -name 'crash-*' -o -name 'leak-*' \
		-o -name 'timeout-*' -o -name 'oom-*' \)
	echo "fuzz: 0 passed, 1 failed"
	exit 1
fi
echo "fuzz: 1 passed, 0 failed"
