#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""All four IDE positions in the default Linux guest, booted once:

  --hda   primary master    a raw image; with losetup, through a loop
                            device passed read-write (",rw")
  --hdb   primary slave     a loop device holding a known pattern,
                            passed read-only (the default for devices)
  --cdrom secondary master  linux.iso, changed at runtime through the
                            --control socket to freedos.iso
  --hdd   secondary slave   a Parallels .hdd made by `twoostwo disk create`

Four positions, and the CD takes one, leave no place for a fifth drive, so
the read-write pass-through is the primary master itself: its loop device
sits on the raw image, and the host reads the image file after poweroff.
Without losetup (no root, no loop driver) --hda is the raw file, --hdb is
absent, and the pass-through checks print `skip NAME: reason`.
"""

import hashlib
import os
import re
import shutil
import subprocess
import tempfile

import harness
from harness import KEEP, Skip, TestFailure, guest
from test_linux import Linux

MIB = 1 << 20
HDA_SIZE = 16 * MIB
HDB_SIZE = 1 * MIB  # read whole by sha256sum in the guest: keep it small
HDD_SIZE = 24 * MIB
# The guest copies MiB 2 (to --hda) and MiB 3 (to --hdd) of its CD: parts
# of the compressed kernel, so no two sectors are alike.
HDA_ISO_MIB = 2
HDD_ISO_MIB = 3
HDD_AT_MIB = 5  # where on the .hdd the guest writes
NEW_ISO = 'freedos.iso'
NEW_ISO_FILE = 'freedos-boot-1.44M.img'
LOCKED = 'error: the guest has locked the tray'


def iso_mib(n):
    with open(guest('linux.iso'), 'rb') as f:
        f.seek(n * MIB)
        data = f.read(MIB)
    if len(data) != MIB:
        raise TestFailure('linux.iso is too short for the pattern')
    return data


def sh(*args, timeout=30):
    """Run a host command; (status, output)."""
    try:
        p = subprocess.run(args, stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=timeout)
    except (OSError, subprocess.TimeoutExpired) as e:
        return None, str(e)
    return p.returncode, p.stdout.decode('utf-8', 'replace').strip()


class Setup:
    """The host side: images, loop devices, the control socket."""

    def __init__(self):
        self.tmp = tempfile.mkdtemp(prefix='twoostwo-drives-')
        self.hda = os.path.join(self.tmp, 'hda.img')
        self.hdb = os.path.join(self.tmp, 'hdb.pattern')
        self.hdd = os.path.join(self.tmp, 'hdd.hdd')
        self.sock = os.path.join(self.tmp, 'control')
        self.loops = []
        self.no_loop = None  # why there are no loop devices
        self.pattern = os.urandom(HDB_SIZE)
        with open(self.hda, 'wb') as f:
            f.truncate(HDA_SIZE)
        with open(self.hdb, 'wb') as f:
            f.write(self.pattern)
        rc, out = sh(harness.TWOOSTWO, 'disk', 'create', self.hdd,
                     '%dM' % (HDD_SIZE // MIB))
        if rc != 0:
            raise TestFailure('twoostwo disk create: %s' % out)
        self.hda_dev = self.loop(self.hda)
        self.hdb_dev = self.loop(self.hdb) if self.hda_dev else None

    def loop(self, path):
        if self.no_loop:
            return None
        if not shutil.which('losetup'):
            self.no_loop = 'no losetup on this host'
            return None
        rc, out = sh('losetup', '-f', '--show', path)
        if rc != 0 or not out.startswith('/dev/'):
            self.no_loop = 'losetup: %s' % (out or 'failed')
            return None
        self.loops.append(out)
        return out

    def args(self):
        a = ['--hda', self.hda_dev + ',rw' if self.hda_dev else self.hda,
             '--hdd', self.hdd, '--control', self.sock]
        if self.hdb_dev:
            a += ['--hdb', self.hdb_dev]
        return a

    def control(self, *command):
        rc, out = sh(harness.TWOOSTWO, 'control', self.sock, *command)
        return rc, out

    def close(self):
        for dev in self.loops:
            sh('losetup', '-d', dev)
        if not KEEP:
            shutil.rmtree(self.tmp, ignore_errors=True)


def guest_disks(m):
    """{name: (sectors, sysfs path)} of the guest's sd disks."""
    out = m.run('for d in /sys/block/sd*; do echo "$d $(cat $d/size) '
                '$(readlink -f $d/device)"; done')
    disks = {}
    for line in out.splitlines():
        f = line.split()
        if len(f) == 3 and f[0].startswith('/sys/block/'):
            disks[f[0].rsplit('/', 1)[1]] = (int(f[1]), f[2])
    return disks


def sha256_in_guest(m, dev):
    out = m.run('sha256sum %s' % dev, timeout=120)
    got = re.search(r'^([0-9a-f]{64}) ', out, re.M)
    if not got:
        raise TestFailure('no digest in %r' % out)
    return got.group(1)


CHECKS = ('linux_drives_seen', 'linux_hostdev_ro_sha256',
          'linux_hostdev_ro_write_refused', 'linux_hda_write',
          'linux_hdd_write', 'linux_cd_locked_while_mounted',
          'linux_cd_change', 'linux_poweroff', 'linux_hostdev_rw_readback',
          'linux_hdd_readback', 'linux_hostdev_ro_untouched')


def have_drive_features():
    """False for tests/guest/qemu-twoostwo (the harness self-check): it has
    no disk tool, no --hdb/--hdd and no control socket."""
    return harness.run_command(['disk', '--help'], 30)[0] == 0


def tests(r):
    if not have_drive_features():
        def skipped():
            raise Skip('%s has no disk tool, drive options or control '
                       'socket' % harness.TWOOSTWO)
        for name in CHECKS:
            r.run(name, skipped)
        return
    s = Setup()
    m = Linux(*s.args())
    names = {}  # position -> guest disk name
    try:
        drive_checks(r, s, m, names)
        cd_checks(r, s, m)
        host_checks(r, s, m, names)
    finally:
        if m.vm:
            m.vm.close()
        s.close()


def need_loop(s):
    if s.no_loop:
        raise Skip(s.no_loop)


def drive_checks(r, s, m, names):
    def drives_seen():
        disks = guest_disks(m)
        want = {'hda': HDA_SIZE, 'hdd': HDD_SIZE}
        if s.hdb_dev:
            want['hdb'] = HDB_SIZE
        for pos, size in want.items():
            found = [n for n, (sec, _) in disks.items() if sec * 512 == size]
            if len(found) != 1:
                raise TestFailure('no single disk of %d bytes for --%s: %r'
                                  % (size, pos, disks))
            names[pos] = found[0]
        # The secondary slave: ata2, SCSI target 1 (ATA device 1).
        path = disks[names['hdd']][1]
        if '/ata2/' not in path or not re.search(r'/\d+:0:1:0$', path):
            raise TestFailure('--hdd is %s at %s, not the secondary slave'
                              % (names['hdd'], path))
        if len(disks) != len(want):
            raise TestFailure('guest disks %r, expected %d'
                              % (disks, len(want)))
        print('# guest disks: %s' % ', '.join(
            '--%s=%s' % kv for kv in sorted(names.items())), flush=True)

    def hostdev_ro_sha256():
        need_loop(s)
        dev = '/dev/' + names['hdb']
        got = sha256_in_guest(m, dev)
        want = hashlib.sha256(s.pattern).hexdigest()
        if got != want:
            raise TestFailure('guest read %s with sha256 %s, the loop '
                              'device holds %s' % (dev, got, want))

    def hostdev_ro_write_refused():
        need_loop(s)
        dev = '/dev/' + names['hdb']
        out, rc = m.start().run('dd if=/dev/zero of=%s bs=4k count=1 '
                                'oflag=direct' % dev, 60)
        if rc == 0:
            raise TestFailure('a write to the read-only %s succeeded: %s'
                              % (dev, out.strip()))

    def hda_write():
        if s.no_loop:
            print('# --hda is the raw file itself: %s' % s.no_loop,
                  flush=True)
        m.run('dd if=/dev/sr0 of=/dev/%s bs=64k count=16 skip=%d '
              'oflag=direct' % (names['hda'], HDA_ISO_MIB * 16), 120)

    def hdd_write():
        m.run('dd if=/dev/sr0 of=/dev/%s bs=64k count=16 skip=%d seek=%d '
              'oflag=direct' % (names['hdd'], HDD_ISO_MIB * 16,
                                HDD_AT_MIB * 16), 120)
        m.run('sync')

    r.run('linux_drives_seen', drives_seen, *m.vms())
    r.run('linux_hostdev_ro_sha256', hostdev_ro_sha256, *m.vms())
    r.run('linux_hostdev_ro_write_refused', hostdev_ro_write_refused,
          *m.vms())
    r.run('linux_hda_write', hda_write, *m.vms())
    r.run('linux_hdd_write', hdd_write, *m.vms())


def expect_control(s, want_rc, want_prefix, *command):
    rc, out = s.control(*command)
    if rc != want_rc or not out.startswith(want_prefix):
        raise TestFailure('twoostwo control %s: status %s, %r; expected '
                          '%d and %r...' % (' '.join(command), rc, out,
                                            want_rc, want_prefix))
    return out


def cd_checks(r, s, m):
    new_iso = guest(NEW_ISO)

    def cd_locked_while_mounted():
        m.run('mount -t iso9660 -o ro /dev/sr0 /mnt')
        expect_control(s, 0, 'ok cdrom=%s tray=closed locked=yes'
                       % guest('linux.iso'), 'status')
        expect_control(s, 1, LOCKED, 'eject')
        m.run('umount /mnt')
        expect_control(s, 0, 'ok cdrom=%s tray=closed locked=no'
                       % guest('linux.iso'), 'status')

    def cd_change():
        expect_control(s, 0, 'ok ejected', 'eject')
        expect_control(s, 0, 'ok cdrom=empty tray=open', 'status')
        out, rc = m.start().run('mount -t iso9660 -o ro /dev/sr0 /mnt', 60)
        if rc == 0:
            raise TestFailure('mount of the empty drive succeeded')
        expect_control(s, 0, 'ok inserted %s' % new_iso, 'insert', new_iso)
        m.run('mount -t iso9660 -o ro /dev/sr0 /mnt')
        out = m.run('ls /mnt')
        if NEW_ISO_FILE not in out.split():
            raise TestFailure('/mnt holds %r after inserting %s, not %s'
                              % (out.strip(), NEW_ISO, NEW_ISO_FILE))
        m.run('umount /mnt')

    r.run('linux_cd_locked_while_mounted', cd_locked_while_mounted,
          *m.vms())
    r.run('linux_cd_change', cd_change, *m.vms())


def host_checks(r, s, m, names):
    def poweroff():
        m.power_off()
        rc, took = m.poweroff
        if rc != 0:
            raise TestFailure('exit status %s after poweroff -f' % rc)
        m.vm.check_no_sanitizer_report()

    def stopped():
        if m.vm and m.vm.alive():
            m.vm.stop()

    def hda_readback():
        stopped()
        if 'hda' not in names:
            raise TestFailure('--hda was not found in the guest')
        with open(s.hda, 'rb') as f:
            data = f.read()
        if data[:MIB] != iso_mib(HDA_ISO_MIB):
            raise TestFailure('the first MiB of %s does not hold what the '
                              'guest wrote%s' % (s.hda, '' if s.no_loop
                                                 else ' through the loop '
                                                 'device'))
        if data[MIB:].count(0) != len(data) - MIB:
            raise TestFailure('%s changed past its first MiB' % s.hda)

    def hdd_readback():
        stopped()
        raw = os.path.join(s.tmp, 'hdd.raw')
        rc, out = sh(harness.TWOOSTWO, 'disk', 'check', s.hdd)
        if rc != 0:
            raise TestFailure('twoostwo disk check: %s' % out)
        rc, out = sh(harness.TWOOSTWO, 'disk', 'convert', '-O', 'raw',
                     s.hdd, raw)
        if rc != 0:
            raise TestFailure('twoostwo disk convert: %s' % out)
        with open(raw, 'rb') as f:
            f.seek(HDD_AT_MIB * MIB)
            got = f.read(MIB)
        if got != iso_mib(HDD_ISO_MIB):
            raise TestFailure('MiB %d of %s does not hold what the guest '
                              'wrote' % (HDD_AT_MIB, s.hdd))

    def hostdev_ro_untouched():
        need_loop(s)
        stopped()
        with open(s.hdb, 'rb') as f:
            if f.read() != s.pattern:
                raise TestFailure('the read-only loop device changed')

    def hostdev_rw_skipped():
        raise Skip('%s (the raw image was --hda itself)' % s.no_loop)

    r.run('linux_poweroff', poweroff, *m.vms())
    if s.no_loop:
        r.run('linux_hostdev_rw_readback', hostdev_rw_skipped)
        r.run('linux_hda_readback', hda_readback, *m.vms())
    else:
        # The raw image, written by the guest through its loop device.
        r.run('linux_hostdev_rw_readback', hda_readback, *m.vms())
    r.run('linux_hdd_readback', hdd_readback, *m.vms())
    r.run('linux_hostdev_ro_untouched', hostdev_ro_untouched, *m.vms())


if __name__ == '__main__':
    harness.main(tests)
