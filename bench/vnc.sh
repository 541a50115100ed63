#!/bin/bash
# VNC benchmark: twoostwo's VNC server against QEMU's (TCG, -vga std) with
# the same guest program (tests/guest/vga_modes.asm -DVNCBENCH: VBE
# 1024x768x32 LFB fills) and the same libvncclient client
# (build/tests/vncclient) in the same run: guest fills/s, frames/s and
# bytes/frame delivered to the client, key-to-screen latency. Options go
# to bench/vnc.py (--help lists them); the binary under test is $TWOOSTWO
# (default build/twoostwo).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export PYTHONDONTWRITEBYTECODE=1
exec python3 "$here/vnc.py" "$@"
