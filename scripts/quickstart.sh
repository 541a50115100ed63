#!/bin/bash
# From a fresh Debian 12 (as root) to a running guest: install the
# dependencies, build twoostwo and the guest images, then boot FreeDOS in
# this terminal. Ctrl-] quits.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/install-deps.sh
echo "quickstart: building (make -j2; log in build/make.log)"
mkdir -p build
make -j2 >build/make.log 2>&1 || { tail -n 30 build/make.log >&2; exit 1; }
scripts/build-guests.sh
exec build/twoostwo run --cdrom build/guests/freedos.iso --display terminal
