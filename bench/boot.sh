#!/bin/bash
# Boot-time benchmark: twoostwo against QEMU (TCG) and Bochs on the same
# guests. Options go to bench/boot.py (--help lists them); the binary
# under test is $TWOOSTWO (default build/twoostwo).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export PYTHONDONTWRITEBYTECODE=1
"$here/../scripts/build-guests.sh" >/dev/null
exec python3 "$here/boot.py" "$@"
