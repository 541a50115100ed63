#!/bin/bash
# Suspend/resume benchmark: twoostwo vm suspend/resume against QEMU's
# migrate-to-file and -incoming, same guest, same run (bench/suspend.py).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export PYTHONDONTWRITEBYTECODE=1
[ -r "$here/../build/guests/linux.iso" ] ||
	"$here/../scripts/build-linux-guest.sh" >/dev/null
exec python3 "$here/suspend.py" "$@"
