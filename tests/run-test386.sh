#!/bin/bash
# test386.asm (shared/cpu-tests/test386, shared/specs/CPU-TESTS.md) on the
# soft CPU: assemble the ROM in both sizes (64 KiB, and 128 KiB with the
# task-switch tests), boot each as the machine's firmware, and require the
# last POST code (port 0x402, --debug-log) to be 0xFF and the POST 0xEE
# results printed on COM1 to equal test386-EE-reference.txt.
#
# usage: tests/run-test386.sh [path/to/twoostwo]
# Needs nasm (scripts/install-deps.sh); says SKIPPED when nasm or the
# test386 sources are absent. Takes about 10 s of CPU.
set -u

repo=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:-$repo/build/twoostwo}
shared=${TWOOSTWO_SHARED:-$(dirname "$repo")/shared}
src=$shared/cpu-tests/test386
out=$(dirname "$bin")/test386

if [ ! -x "$bin" ]; then
	echo "run-test386: $bin not built" >&2
	exit 2
fi
if [ ! -f "$src/src/test386.asm" ]; then
	echo "SKIPPED: test386: $src absent"
	exit 0
fi
if ! command -v nasm >/dev/null; then
	echo "SKIPPED: test386: nasm not installed (scripts/install-deps.sh)"
	exit 0
fi

# The one file meant to be edited (configuration.asm), in a copy: POST
# codes to the debug port, results to COM1, undefined behaviour untested.
build_rom() {
	local rom128=$1 dir=$out/src$1
	rm -rf "$dir"
	mkdir -p "$out"
	cp -r "$src/src" "$dir"
	sed -i -e 's/^POST_PORT equ .*/POST_PORT equ 0x402/' \
		-e 's/^COM_PORT equ .*/COM_PORT equ 1/' \
		-e 's/^TEST_UNDEF equ .*/TEST_UNDEF equ 0/' \
		-e "s/^ROM128 equ .*/ROM128 equ $rom128/" "$dir/configuration.asm"
	nasm -w-all -i"$dir/" -f bin "$dir/test386.asm" \
		-l "$out/test386-$rom128.lst" -o "$out/test386-$rom128.bin"
}

status=0
for rom128 in 0 1; do
	name="test386 ($([ "$rom128" = 1 ] && echo 128 || echo 64) KiB ROM)"
	if ! build_rom "$rom128"; then
		echo "FAIL $name: nasm failed"
		status=1
		continue
	fi
	rm -f "$out/post-$rom128.log" "$out/com1-$rom128.txt"
	"$bin" run --bios "$out/test386-$rom128.bin" --memory 16M \
		--display none --serial "file:$out/com1-$rom128.txt" \
		--debug-log "$out/post-$rom128.log" --exit-when-halted \
		--timeout 120
	rc=$?
	last=$(tail -c 1 "$out/post-$rom128.log" 2>/dev/null | od -An -tx1 |
	       tr -d ' ')
	if [ "$rc" != 0 ] || [ "$last" != ff ]; then
		echo "FAIL $name: exit $rc, last POST code 0x${last:-none}" \
		     "(see $out/test386-$rom128.lst)"
		status=1
	elif ! cmp -s "$out/com1-$rom128.txt" \
			"$src/test386-EE-reference.txt"; then
		echo "FAIL $name: POST 0xEE output differs from the reference:"
		diff "$out/com1-$rom128.txt" "$src/test386-EE-reference.txt" |
			head -10
		status=1
	else
		echo "PASS $name: POST 0xFF, 0xEE output equals the reference"
	fi
done
exit $status
