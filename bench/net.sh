#!/bin/bash
# Network benchmark: the Linux guest's download (16 MiB over libslirp from
# an HTTP server on the host's loopback), upload and ping round trip on
# both NE2000 cards in twoostwo against QEMU (TCG) with ne2k_pci, ne2k_isa
# and e1000, the same guest in the same run. Options go to bench/net.py
# (--help lists them); the binary under test is $TWOOSTWO (default
# build/twoostwo).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export PYTHONDONTWRITEBYTECODE=1
"$here/../scripts/build-guests.sh" >/dev/null
exec python3 "$here/net.py" "$@"
