#!/bin/bash
# Disk benchmark: the Linux guest's O_DIRECT throughput on raw and .hdd
# images in twoostwo against QEMU (TCG), and the host's on a file beside
# them. Options go to bench/disk.py (--help lists them); the binary under
# test is $TWOOSTWO (default build/twoostwo).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export PYTHONDONTWRITEBYTECODE=1
"$here/../scripts/build-guests.sh" >/dev/null
exec python3 "$here/disk.py" "$@"
