#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The 64-bit Linux guest (linux64.iso from scripts/build-linux-guest.sh
--kernel amd64: Debian's amd64 kernel and the amd64 busybox) booted from
CD, with the checks of test_linux.py run on it through the same one boot.

Only the CPU check is its own: the kernel and the shell must run in long
mode (`uname -m` is x86_64, cpuinfo shows lm) and cpuinfo must show the
x86-64-v2 SIMD levels (SSE to SSE4.2, POPCNT) and nothing beyond them.
The brand string is not checked here: test_linux.py holds it to the
32-bit model's.
"""

import os
import tempfile

import harness
import test_linux
from harness import KEEP, SKIP, TestFailure

# Long mode (CPUID 80000001h:EDX.LM) and what an x86-64-v2 CPU has.
CPU_64_FLAGS = {'lm', 'nx', 'syscall', 'cx16', 'lahf_lm'}


class Linux64(test_linux.Linux):
    ISO = 'linux64.iso'


class Renamed:
    """Runs test_linux.py's checks as linux64_NAME; its CPU check is
    replaced by cpu_check."""

    def __init__(self, runner, cpu_check):
        self.runner = runner
        self.cpu_check = cpu_check

    def run(self, name, check, *vms):
        if name == 'linux_cpuinfo':
            check = self.cpu_check
        self.runner.run(name.replace('linux_', 'linux64_', 1), check, *vms)


def cpuinfo_check(m):
    def linux64_cpuinfo():
        out = m.run('uname -m')
        if out.strip() != 'x86_64':
            raise TestFailure('uname -m says %r, not x86_64' % out.strip())
        out = m.run("grep -m1 '^vendor_id' /proc/cpuinfo")
        vendor = out.split(':', 1)[1].strip() if ':' in out else None
        if vendor != test_linux.CPU_VENDOR:
            raise TestFailure('vendor_id %r, not %r'
                              % (vendor, test_linux.CPU_VENDOR))
        out = m.run("grep -m1 '^flags' /proc/cpuinfo")
        flags = set(out.split(':', 1)[1].split()) if ':' in out else set()
        missing = (test_linux.CPU_SIMD_FLAGS | CPU_64_FLAGS) - flags
        if missing:
            raise TestFailure('cpuinfo flags lack %s' % sorted(missing))
        extra = test_linux.CPU_ABSENT_FLAGS & flags
        if extra:
            raise TestFailure('cpuinfo flags show %s' % sorted(extra))
        out = m.run("dmesg | grep -m1 'x87 FPU will use'")
        if 'FXSAVE' not in out:
            raise TestFailure('kernel FPU context: %r' % out.strip())

    return linux64_cpuinfo


def tests(r):
    tmp = tempfile.mkdtemp(prefix='twoostwo-linux64-')
    image = os.path.join(tmp, 'disk.img')
    m = Linux64('--hda', image)
    checks = Renamed(r, cpuinfo_check(m))
    try:
        with open(image, 'wb') as f:
            f.truncate(test_linux.DISK_SIZE)
        test_linux.read_only_checks(checks, m)
        if 'linux64_disk_write' not in SKIP:
            m.write_disk()
        test_linux.power_checks(checks, m, image)
    finally:
        if m.vm:
            m.vm.close()
        if not KEEP:
            os.unlink(image)
            os.rmdir(tmp)


if __name__ == '__main__':
    harness.main(tests)
