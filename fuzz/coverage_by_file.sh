#!/bin/bash
# SPDX-License-Identifier: MIT
# Edge coverage per source file from a libFuzzer -print_coverage=1 log:
#   fuzz/coverage_by_file.sh LOG [PATH-PREFIX]   (default prefix src/hw/)
# prints "file covered/total edges (percent)" for every file under the
# prefix, then the total.
set -u
log=${1:?usage: $0 LOG [PATH-PREFIX]}
prefix=${2:-src/hw/}
grep -E '^(UN)?COVERED_FUNC:' "$log" |
	sed -n 's/.*edges: \([0-9]*\)\/\([0-9]*\) .* \([^ ]*\):[0-9]*$/\3 \1 \2/p' |
	awk -v p="$prefix" '{
		i = index($1, p); if (!i) next
		f = substr($1, i); c[f] += $2; t[f] += $3
	} END {
		for (f in c) {
			printf "%-28s %5d/%-5d edges (%3d%%)\n", f, c[f], t[f],
				t[f] ? 100 * c[f] / t[f] : 0
			C += c[f]; T += t[f]
		}
		printf "%-28s %5d/%-5d edges (%3d%%)\n", "total", C, T,
			T ? 100 * C / T : 0
	}' | sort
