#!/bin/bash
# From a fresh Debian 12 (as root) to a running guest: install the
# dependencies, build twoostwo and the guest images, then boot the default
# guest (Debian's i686 Linux kernel with a busybox shell) in this
# terminal. Its shell is on the screen's tty1 and on COM1; Ctrl-] quits.
# FreeDOS: build/twoostwo run --cdrom build/guests/freedos.iso
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/install-deps.sh
echo "quickstart: building (make -j2; log in build/make.log)"
mkdir -p build
make -j2 >build/make.log 2>&1 || { tail -n 30 build/make.log >&2; exit 1; }
scripts/build-guests.sh
exec build/twoostwo run --cdrom build/guests/linux.iso --memory 256M \
	--display terminal
