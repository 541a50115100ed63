#!/bin/bash
# CPU engine speed on a tight integer loop, against QEMU's TCG. Options go
# to bench/cpu_loop.py (--help lists them); the binary under test is
# $TWOOSTWO (default build/twoostwo).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export PYTHONDONTWRITEBYTECODE=1
exec python3 "$here/cpu_loop.py" "$@"
