#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The default Linux guest (linux.iso from scripts/build-linux-guest.sh:
Debian's i686 kernel and a busybox initramfs) booted from CD, and checked
through the root shell that its /init runs on COM1.

A boot takes the soft CPU well over a minute, so the checks share
machines: the first runs every read-only check and then reboots; the
second writes its disk and powers off. Should the first never reach its
prompt, the second is not started: it would only wait out its timeout.
"""

import hashlib
import os
import re
import subprocess
import tempfile
import time

import harness
from harness import KEEP, SerialShell, TestFailure, Vm, guest

MARKER = 'TWOOSTWO-LINUX-READY'
PROMPT = 'twoostwo:/# '
BOOT_S = 300
COMMAND_S = 30
POWEROFF_S = 30

CPU_MODEL = 'twoostwo virtual CPU (P6 class)'
CPU_VENDOR = 'GenuineIntel'
INITRD = '/boot/initrd.gz'
DATE_SLACK_S = 2
SLEEP_S = 5
SLEEP_SLACK_S = 0.5

DISK_SIZE = 16 << 20
# The guest writes the decimal numbers from 100000 up, one a line, to the
# first MiB of its disk: no two sectors of that hold the same bytes, so a
# sector written to the wrong place shows.
PATTERN_SIZE = 1 << 20
PATTERN_FIRST = 100000
PATTERN_WRITE = 'seq %d %d | head -c %d >/dev/sda' % (
    PATTERN_FIRST, PATTERN_FIRST + PATTERN_SIZE // 7, PATTERN_SIZE)


def disk_pattern():
    lines = (b'%d\n' % n for n in range(PATTERN_FIRST,
                                        PATTERN_FIRST + PATTERN_SIZE // 7 + 1))
    return b''.join(lines)[:PATTERN_SIZE]


class Linux:
    """One machine booting linux.iso, started at the first check that
    needs its shell."""

    boot_failed = False  # a machine never reached its prompt

    def __init__(self, *args):
        self.args = args
        self.vm = None
        self.shell = None
        self.ready = False
        self.poweroff = None  # (exit status or None, seconds) once tried

    def vms(self):
        return [self.vm] if self.vm else []

    def start(self):
        """The shell, booting the machine first if need be."""
        if self.ready:
            return self.shell
        if self.vm:
            raise TestFailure('no shell: the guest did not boot to its '
                              'prompt')
        if Linux.boot_failed:
            raise TestFailure('not tried: an earlier boot of the guest did '
                              'not reach its prompt')
        start = time.monotonic()
        self.vm = Vm('--cdrom', guest('linux.iso'), '--boot', 'cd',
                     *self.args, serial='stdio')
        self.shell = SerialShell(self.vm, PROMPT)
        Linux.boot_failed = True
        self.shell.expect_text(MARKER, BOOT_S)
        print('# %s on COM1 after %.1f s' % (MARKER,
                                             time.monotonic() - start),
              flush=True)
        self.shell.expect_text(PROMPT, COMMAND_S)
        Linux.boot_failed = False
        self.ready = True
        return self.shell

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

    def power_off(self):
        """`poweroff -f`, noting how and how soon twoostwo exits."""
        shell = self.start()
        start = time.monotonic()
        shell.send('poweroff -f')
        rc = self.vm.wait_exit(POWEROFF_S)
        self.poweroff = (rc, time.monotonic() - start)
        if rc is None:
            # Let the checks that follow see the disk all the same.
            self.vm.stop()


def host_initrd_sha256(iso):
    with tempfile.TemporaryDirectory(prefix='twoostwo-linux-') as tmp:
        out = os.path.join(tmp, 'initrd.gz')
        try:
            proc = subprocess.run(['xorriso', '-osirrox', 'on', '-indev',
                                   iso, '-extract', INITRD, out],
                                  stdin=subprocess.DEVNULL,
                                  stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, timeout=60)
        except (OSError, subprocess.TimeoutExpired) as e:
            raise TestFailure('xorriso: %s' % e)
        if proc.returncode != 0 or not os.path.isfile(out):
            raise TestFailure('xorriso cannot extract %s: %s' % (
                INITRD, proc.stdout.decode('utf-8', 'replace')[-500:]))
        with open(out, 'rb') as f:
            return hashlib.sha256(f.read()).hexdigest()


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

    def linux_iso_sha256():
        expected = host_initrd_sha256(guest('linux.iso'))
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

    def linux_reboot():
        shell = m.start()
        start = time.monotonic()
        shell.send('reboot -f')
        shell.expect_text(MARKER, BOOT_S)
        print('# %s again %.1f s after reboot -f'
              % (MARKER, time.monotonic() - start), flush=True)
        shell.expect_text(PROMPT, COMMAND_S)
        m.vm.stop_cleanly()

    for name, check in (('linux_marker', linux_marker),
                        ('linux_cpuinfo', linux_cpuinfo),
                        ('linux_iso_sha256', linux_iso_sha256),
                        ('linux_date', linux_date),
                        ('linux_sleep', linux_sleep),
                        ('linux_reboot', linux_reboot)):
        r.run(name, check, *m.vms())


def disk_checks(r, m, image):
    def linux_disk_write():
        m.run('test -b /dev/sda')
        m.run(PATTERN_WRITE)
        m.run('sync')
        m.power_off()
        with open(image, 'rb') as f:
            data = f.read()
        if len(data) != DISK_SIZE:
            raise TestFailure('the image is %d bytes now, not %d'
                              % (len(data), DISK_SIZE))
        expected = disk_pattern()
        for sector in range(PATTERN_SIZE // 512):
            at = sector * 512
            if data[at:at + 512] != expected[at:at + 512]:
                raise TestFailure('sector %d of the image does not hold '
                                  'what the guest wrote' % sector)
        if data[PATTERN_SIZE:].count(0) != DISK_SIZE - PATTERN_SIZE:
            raise TestFailure('the image changed past the first MiB')

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

    r.run('linux_disk_write', linux_disk_write, *m.vms())
    r.run('linux_poweroff', linux_poweroff, *m.vms())


def tests(r):
    first = Linux()
    read_only_checks(r, first)
    if first.vm:
        # Two cores at most: one machine at a time.
        first.vm.close()

    tmp = tempfile.mkdtemp(prefix='twoostwo-linux-')
    try:
        image = os.path.join(tmp, 'disk.img')
        with open(image, 'wb') as f:
            f.truncate(DISK_SIZE)
        disk_checks(r, Linux('--hda', image), image)
    finally:
        if not KEEP:
            for name in os.listdir(tmp):
                os.unlink(os.path.join(tmp, name))
            os.rmdir(tmp)


if __name__ == '__main__':
    harness.main(tests)
