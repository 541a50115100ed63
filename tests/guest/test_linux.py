#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The default Linux guest (linux.iso from scripts/build-linux-guest.sh:
Debian's i686 kernel and a busybox initramfs) booted from CD, and checked
through the root shell that its /init runs on COM1.

A boot takes the soft CPU two minutes, so all the checks share one
machine: it boots, runs the read-only checks, the display checks of
linux_display.py (VNC, web console, bochs-drm: the machine has --vnc and
--control for them), writes its disk, reboots and powers off; the host
then reads the disk image. A check that needs a
shell which never came fails at once instead of waiting again.
"""

import hashlib
import os
import re
import tempfile
import time

import harness
from harness import KEEP, SKIP, SerialShell, TestFailure, Vm, guest

MARKER = 'TWOOSTWO-LINUX-READY'
PROMPT = 'twoostwo:/# '
BOOT_S = 300
COMMAND_S = 30
POWEROFF_S = 30

CPU_MODEL = 'twoostwo virtual CPU (P6 class)'
CPU_VENDOR = 'GenuineIntel'
CPU_SIMD_FLAGS = {'mmx', 'fxsr', 'sse', 'sse2', 'pni', 'ssse3', 'sse4_1',
                  'sse4_2', 'popcnt', 'clflush'}
CPU_ABSENT_FLAGS = {'avx', 'avx2', 'xsave', 'osxsave'}
INITRD = '/boot/initrd.gz'
DATE_SLACK_S = 2
SLEEP_S = 5
SLEEP_SLACK_S = 0.5

DISK_SIZE = 16 << 20
# The guest copies the third MiB of its CD to the first MiB of its disk:
# a pattern the host knows. That part of linux.iso is inside the kernel,
# compressed, so no two of its sectors are alike and a sector written to
# the wrong place shows. (Making a pattern in the guest, with seq or yes,
# takes the soft CPU longer than a command may.)
PATTERN_SIZE = 1 << 20
PATTERN_ISO_MIB = 2
PATTERN_WRITE = 'dd if=/dev/sr0 of=/dev/sda bs=1M skip=%d count=1' % (
    PATTERN_ISO_MIB)


def disk_pattern(iso='linux.iso'):
    with open(guest(iso), 'rb') as f:
        f.seek(PATTERN_ISO_MIB * PATTERN_SIZE)
        return f.read(PATTERN_SIZE)


class Linux:
    """The machine booting linux.iso, started by the first check that
    needs its shell."""

    ISO = 'linux.iso'  # test_linux64.py boots linux64.iso

    def __init__(self, *args):
        self.args = args
        self.vm = None
        self.shell = None
        self.ready = False
        self.no_shell = 'no shell: the guest did not boot to its prompt'
        self.disk_error = None  # what went wrong writing the disk
        self.poweroff = None  # (exit status or None, seconds) once tried

    def vms(self):
        return [self.vm] if self.vm else []

    def start(self):
        """The shell, booting the machine first if need be."""
        if self.ready:
            return self.shell
        if self.vm:
            raise TestFailure(self.no_shell)
        start = time.monotonic()
        self.vm = Vm('--cdrom', guest(self.ISO), '--boot', 'cd',
                     *self.args, serial='stdio')
        self.shell = SerialShell(self.vm, PROMPT)
        self.wait_ready(start, 'on COM1 after %.1f s')
        return self.shell

    def wait_ready(self, start, how_long):
        self.shell.expect_text(MARKER, BOOT_S)
        print('# %s %s' % (MARKER, how_long % (time.monotonic() - start)),
              flush=True)
        self.shell.expect_text(PROMPT, COMMAND_S)
        self.ready = True

    def reboot(self):
        shell = self.start()
        self.ready = False
        self.no_shell = 'no shell: the guest did not come back after ' \
                        'reboot -f'
        start = time.monotonic()
        shell.send('reboot -f')
        self.wait_ready(start, 'again %.1f s after reboot -f')

    def run(self, command, timeout=COMMAND_S):
        """The output of a command that must succeed."""
        out, status = self.start().run(command, timeout)
        if status != 0:
            raise TestFailure('%r: exit status %d: %s'
                              % (command, status, out.strip()))
        return out

    def round_trip(self, command):
        """Seconds from sending command to the prompt's return."""
        shell = self.start()
        start = time.monotonic()
        shell.send(command)
        shell.expect_text(PROMPT, COMMAND_S)
        return time.monotonic() - start

    def write_disk(self):
        """Copy the pattern to the disk; what went wrong is kept for
        linux_disk_write, which can look at the disk only once twoostwo
        has ended."""
        try:
            self.run('test -b /dev/sda')
            self.run(PATTERN_WRITE)
            self.run('sync')
        except Exception as e:  # reported by linux_disk_write
            self.disk_error = e

    def power_off(self):
        """`poweroff -f`, noting how and how soon twoostwo exits."""
        shell = self.start()
        self.ready = False
        self.no_shell = 'no shell: poweroff -f was sent'
        start = time.monotonic()
        shell.send('poweroff -f')
        rc = self.vm.wait_exit(POWEROFF_S)
        self.poweroff = (rc, time.monotonic() - start)


def host_initrd_sha256(iso):
    return hashlib.sha256(harness.iso_file(iso, INITRD)).hexdigest()


def read_only_checks(r, m):
    def linux_marker():
        m.start()
        m.vm.wait_for_screen(MARKER, COMMAND_S)

    def linux_cpuinfo():
        out = m.run("grep -E 'model name|vendor_id' /proc/cpuinfo")
        fields = dict(re.findall(r'^(model name|vendor_id)\s*:\s*(.*?)\s*$',
                                 out, re.M))
        if fields.get('model name') != CPU_MODEL:
            raise TestFailure('model name %r, not %r'
                              % (fields.get('model name'), CPU_MODEL))
        if fields.get('vendor_id') != CPU_VENDOR:
            raise TestFailure('vendor_id %r, not %r'
                              % (fields.get('vendor_id'), CPU_VENDOR))
        # The SIMD levels CPUID advertises (src/cpu/soft/system.c), by
        # their Linux names, and nothing beyond them (no AVX, no XSAVE).
        out = m.run("grep -m1 '^flags' /proc/cpuinfo")
        flags = set(out.split(':', 1)[1].split()) if ':' in out else set()
        missing = CPU_SIMD_FLAGS - flags
        if missing:
            raise TestFailure('cpuinfo flags lack %s' % sorted(missing))
        extra = CPU_ABSENT_FLAGS & flags
        if extra:
            raise TestFailure('cpuinfo flags show %s' % sorted(extra))
        # With FXSR and SSE the kernel switches FPU state with FXSAVE
        # (arch/x86/kernel/fpu/init.c prints which it uses).
        out = m.run("dmesg | grep -m1 'x87 FPU will use'")
        if 'FXSAVE' not in out:
            raise TestFailure('kernel FPU context: %r' % out.strip())

    def linux_iso_sha256():
        expected = host_initrd_sha256(guest(m.ISO))
        m.run('mount -t iso9660 -o ro /dev/sr0 /mnt')
        out = m.run('sha256sum /mnt' + INITRD)
        got = re.search(r'^([0-9a-f]{64}) ', out, re.M)
        if not got:
            raise TestFailure('no digest in %r' % out)
        if got.group(1) != expected:
            raise TestFailure('guest read %s with sha256 %s, the ISO holds '
                              '%s' % (INITRD, got.group(1), expected))

    def linux_date():
        m.start()
        before = time.time()
        out = m.run('date +%s')
        after = time.time()
        got = re.search(r'^(\d+)$', out, re.M)
        if not got:
            raise TestFailure('no time in %r' % out)
        # The guest's second is truncated; the host's moment lies in
        # [before, after].
        guest_s = int(got.group(1))
        if not (before - DATE_SLACK_S - 1 <= guest_s <=
                after + DATE_SLACK_S):
            raise TestFailure('guest time %d, host time %.1f..%.1f'
                              % (guest_s, before, after))

    def linux_sleep():
        # The round trip of the same command without the wait: typing,
        # echo, starting the applet and the prompt.
        base = m.round_trip('sleep 0')
        took = m.round_trip('sleep %d' % SLEEP_S)
        base = (base + m.round_trip('sleep 0')) / 2
        slept = took - base
        print('# sleep %d: %.2f s (round trip %.2f s)'
              % (SLEEP_S, slept, base), flush=True)
        if abs(slept - SLEEP_S) > SLEEP_SLACK_S:
            raise TestFailure('sleep %d took %.2f s of host time'
                              % (SLEEP_S, slept))

    for name, check in (('linux_marker', linux_marker),
                        ('linux_cpuinfo', linux_cpuinfo),
                        ('linux_iso_sha256', linux_iso_sha256),
                        ('linux_date', linux_date),
                        ('linux_sleep', linux_sleep)):
        r.run(name, check, *m.vms())


def power_checks(r, m, image):
    def linux_reboot():
        m.reboot()

    def linux_poweroff():
        if m.poweroff is None:
            m.power_off()
        rc, took = m.poweroff
        if rc is None:
            raise TestFailure('still running %g s after poweroff -f'
                              % harness.scaled(POWEROFF_S))
        if rc != 0:
            raise TestFailure('exit status %d after poweroff -f' % rc)
        print('# exit status 0 %.1f s after poweroff -f' % took, flush=True)
        m.vm.check_no_sanitizer_report()

    def linux_disk_write():
        if m.disk_error:
            raise m.disk_error
        if m.vm.alive():
            # Not powered off: SIGTERM ends it as cleanly as it can be.
            m.vm.stop()
        with open(image, 'rb') as f:
            data = f.read()
        if len(data) != DISK_SIZE:
            raise TestFailure('the image is %d bytes now, not %d'
                              % (len(data), DISK_SIZE))
        expected = disk_pattern(m.ISO)
        if len(expected) != PATTERN_SIZE:
            raise TestFailure('linux.iso is too short for the pattern')
        for sector in range(PATTERN_SIZE // 512):
            at = sector * 512
            if data[at:at + 512] != expected[at:at + 512]:
                raise TestFailure('sector %d of the image does not hold '
                                  'what the guest copied from its CD'
                                  % sector)
        if data[PATTERN_SIZE:].count(0) != DISK_SIZE - PATTERN_SIZE:
            raise TestFailure('the image changed past the first MiB')

    r.run('linux_reboot', linux_reboot, *m.vms())
    r.run('linux_poweroff', linux_poweroff, *m.vms())
    r.run('linux_disk_write', linux_disk_write, *m.vms())


def tests(r):
    import linux_display  # it imports Linux from here

    tmp = tempfile.mkdtemp(prefix='twoostwo-linux-')
    image = os.path.join(tmp, 'disk.img')
    display = linux_display.Display() if linux_display.supported() else None
    m = Linux('--hda', image, *(display.args if display else ()))
    try:
        with open(image, 'wb') as f:
            f.truncate(DISK_SIZE)
        read_only_checks(r, m)
        if display:
            linux_display.checks(r, m, display)
        else:
            linux_display.skip_all(r, '%s has no --vnc' % harness.TWOOSTWO)
        if 'linux_disk_write' not in SKIP:
            m.write_disk()
        power_checks(r, m, image)
    finally:
        if m.vm:
            m.vm.close()
        if display:
            display.close()
        if not KEEP:
            os.unlink(image)
            os.rmdir(tmp)


if __name__ == '__main__':
    harness.main(tests)
