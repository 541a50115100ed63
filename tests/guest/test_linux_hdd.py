#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A file system on a Parallels .hdd image, made and filled by the Linux
guest, survives a power-off: the default Linux guest (linux.iso) boots with
an expanding .hdd from `twoostwo disk create` as its IDE disk, makes an ext2
file system on it (busybox mke2fs; the kernel's ext4 driver mounts it),
writes files of known content, syncs, unmounts and powers off. The host
then checks the image (`twoostwo disk check`, `qemu-img check -f
parallels`, and e2fsck on a raw copy); the guest boots again and reads the
files back, and their sha256 must be those the host computed.

TRIM rides on the first boot: the guest kernel must see it on the disk
(discard_max_bytes), and `fstrim` after deleting a file must give the
file's space back to the host (the image's allocated blocks drop). Every
later check (disk check, qemu-img check, e2fsck, sha256 after the second
boot) then also proves that fstrim discarded nothing still in use.

Two boots of two minutes each: every check of one boot shares it.
TWOOSTWO_GUEST_SKIP=linux_hdd skips the whole file (a slow build, such as
the sanitizer one, may not have the time for two more boots).
"""

import hashlib
import os
import re
import shutil
import subprocess
import tempfile
import time

import harness
from harness import KEEP, SKIP, SerialShell, Skip, TestFailure, Vm, guest

MARKER = 'TWOOSTWO-LINUX-READY'
PROMPT = 'twoostwo:/# '
BOOT_S = 300
COMMAND_S = 60
POWEROFF_S = 30
TOOL_S = 60

DISK_SIZE = '64M'
CD = '/tmp/cd'
DISK = '/tmp/disk'

# The files, as (path on the disk, what makes them, its content on the
# host). Data comes from the CD, since making it in the guest costs the
# soft CPU too long: big.bin spans many clusters of the image (1 MiB
# each) and many ext2 block groups; vmlinuz is copied through the CD's
# file system. The small ones are written by the shell.
BIG_SKIP_MIB, BIG_MIB = 1, 5
SMALL_TEXT = 'twoostwo keeps this line\n'
MANY = 24
# A file of this many MiB is written, deleted and trimmed.
TRIM_MIB = 2

CHECKS = ['linux_hdd_create', 'linux_hdd_boot', 'linux_hdd_write',
          'linux_hdd_trim', 'linux_hdd_poweroff', 'linux_hdd_disk_check',
          'linux_hdd_qemu_img_check', 'linux_hdd_e2fsck',
          'linux_hdd_boot_again', 'linux_hdd_read_back',
          'linux_hdd_poweroff_again']


def iso_bytes(offset, size):
    with open(guest('linux.iso'), 'rb') as f:
        f.seek(offset)
        data = f.read(size)
    if len(data) != size:
        raise TestFailure('linux.iso is shorter than %d bytes'
                          % (offset + size))
    return data


def expected_files():
    """{path under DISK: content} of everything the guest writes."""
    files = {
        'big.bin': iso_bytes(BIG_SKIP_MIB << 20, BIG_MIB << 20),
        'boot/vmlinuz': harness.iso_file(guest('linux.iso'), '/boot/vmlinuz'),
        'small.txt': SMALL_TEXT.encode(),
    }
    for i in range(1, MANY + 1):
        files['many/%d' % i] = b'file %d\n' % i
    return files


WRITE_COMMANDS = [
    'mke2fs -F /dev/sda',
    'mkdir -p %s %s' % (CD, DISK),
    'mount -t iso9660 -o ro /dev/sr0 %s' % CD,
    'mount -t ext2 /dev/sda %s' % DISK,
    'dd if=/dev/sr0 of=%s/big.bin bs=1M skip=%d count=%d' % (
        DISK, BIG_SKIP_MIB, BIG_MIB),
    'mkdir %s/boot %s/many' % (DISK, DISK),
    'cp %s/boot/vmlinuz %s/boot/vmlinuz' % (CD, DISK),
    "echo '%s' >%s/small.txt" % (SMALL_TEXT.rstrip('\n'), DISK),
    'for i in $(seq 1 %d); do echo "file $i" >%s/many/$i; done' % (
        MANY, DISK),
    'sync',
    'umount %s' % DISK,
]


class Machine:
    """One boot of linux.iso with the image as its first IDE disk."""

    def __init__(self, image):
        self.image = image
        self.vm = None
        self.shell = None
        self.ready = False
        self.poweroff = None  # (exit status or None, seconds) once tried

    def vms(self):
        return [self.vm] if self.vm else []

    def boot(self):
        start = time.monotonic()
        self.vm = Vm('--cdrom', guest('linux.iso'), '--boot', 'cd',
                     '--hda', self.image, serial='stdio')
        self.shell = SerialShell(self.vm, PROMPT)
        self.shell.expect_text(MARKER, BOOT_S)
        print('# %s after %.1f s' % (MARKER, time.monotonic() - start),
              flush=True)
        self.shell.expect_text(PROMPT, COMMAND_S)
        self.ready = True

    def run(self, command, timeout=COMMAND_S):
        """The output of a command that must succeed."""
        if not self.ready:
            raise TestFailure('no shell: the guest did not boot to its '
                              'prompt')
        out, status = self.shell.run(command, timeout)
        if status != 0:
            raise TestFailure('%r: exit status %d: %s'
                              % (command, status, out.strip()[-500:]))
        return out

    def power_off(self):
        """`poweroff -f`; fails unless twoostwo then exits with 0."""
        if self.poweroff is None:
            if not self.ready:
                raise TestFailure('no shell to send poweroff -f to')
            self.ready = False
            start = time.monotonic()
            self.shell.send('poweroff -f')
            rc = self.vm.wait_exit(POWEROFF_S)
            self.poweroff = (rc, time.monotonic() - start)
        rc, took = self.poweroff
        if rc is None:
            raise TestFailure('still running %g s after poweroff -f'
                              % harness.scaled(POWEROFF_S))
        if rc != 0:
            raise TestFailure('exit status %d after poweroff -f' % rc)
        print('# exit status 0 %.1f s after poweroff -f' % took, flush=True)
        self.vm.check_no_sanitizer_report()

    def close(self):
        if self.vm:
            self.vm.close()


def disk_tool(*args):
    """`twoostwo disk ARGS`: (exit status, stdout and stderr as text)."""
    rc, out, err = harness.run_command(['disk', *args], TOOL_S)
    return rc, (out + err).decode('utf-8', 'replace')


def have_disk_tool():
    """False when TWOOSTWO has no disk command: tests/guest/qemu-twoostwo,
    which checks this test itself. qemu-img then makes and converts the
    image, and the checks of twoostwo's own tool are skipped."""
    return harness.run_command(['disk', '--help'], TOOL_S)[0] == 0


def host_tool(*cmd):
    """(exit status, output) of a host program; Skip if it is missing."""
    if not shutil.which(cmd[0]):
        raise Skip('%s not installed' % cmd[0])
    proc = subprocess.run(cmd, stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          timeout=harness.scaled(TOOL_S))
    return proc.returncode, proc.stdout.decode('utf-8', 'replace')


def create_image(image, own_tool):
    if own_tool:
        rc, out = disk_tool('create', image, DISK_SIZE)
        what = 'twoostwo disk create'
    else:
        rc, out = host_tool('qemu-img', 'create', '-q', '-f', 'parallels',
                            image, DISK_SIZE)
        what = 'qemu-img create'
    if rc != 0:
        raise TestFailure('%s: exit status %s: %s' % (what, rc, out.strip()))


def convert_to_raw(image, raw, own_tool):
    if own_tool:
        rc, out = disk_tool('convert', '-O', 'raw', '--force', image, raw)
        what = 'twoostwo disk convert'
    else:
        rc, out = host_tool('qemu-img', 'convert', '-f', 'parallels', '-O',
                            'raw', image, raw)
        what = 'qemu-img convert'
    if rc != 0:
        raise TestFailure('%s: exit status %s: %s' % (what, rc, out.strip()))


def host_checks(r, image, tmp, files, own_tool):
    def linux_hdd_disk_check():
        if not own_tool:
            raise Skip('%s has no disk command' % harness.TWOOSTWO)
        rc, out = disk_tool('check', image)
        if rc != 0:
            raise TestFailure('twoostwo disk check: exit status %s: %s'
                              % (rc, out.strip()))
        rc, out = disk_tool('info', image)
        m = re.search(r'^allocated size: (\d+) bytes', out, re.M)
        if rc != 0 or not m:
            raise TestFailure('twoostwo disk info: exit status %s: %s'
                              % (rc, out.strip()))
        data = sum(len(v) for v in files.values())
        if int(m.group(1)) < data:
            raise TestFailure('only %s bytes allocated in the image, for '
                              '%d bytes of files' % (m.group(1), data))
        if not re.search(r'^dirty: no$', out, re.M):
            raise TestFailure('in-use flag still set after poweroff: %s'
                              % out.strip())

    def linux_hdd_qemu_img_check():
        rc, out = host_tool('qemu-img', 'check', '-f', 'parallels', image)
        if rc != 0:
            raise TestFailure('qemu-img check: exit status %d: %s'
                              % (rc, out.strip()))

    def linux_hdd_e2fsck():
        # e2fsck reads raw images only: a copy through the disk tool.
        if not shutil.which('e2fsck'):
            raise Skip('e2fsck not installed')
        raw = os.path.join(tmp, 'disk.raw')
        convert_to_raw(image, raw, own_tool)
        try:
            rc, out = host_tool('e2fsck', '-fn', raw)
        finally:
            os.unlink(raw)
        if rc != 0:
            raise TestFailure('e2fsck -fn: exit status %d: %s'
                              % (rc, out.strip()[-800:]))

    r.run('linux_hdd_disk_check', linux_hdd_disk_check)
    r.run('linux_hdd_qemu_img_check', linux_hdd_qemu_img_check)
    r.run('linux_hdd_e2fsck', linux_hdd_e2fsck)


def host_bytes(path):
    """Bytes the host file system has allocated for path."""
    return os.stat(path).st_blocks * 512


def first_boot(r, m, own_tool):
    def linux_hdd_boot():
        m.boot()

    def linux_hdd_write():
        start = time.monotonic()
        for command in WRITE_COMMANDS:
            m.run(command)
        print('# mke2fs, files written and unmounted in %.1f s'
              % (time.monotonic() - start), flush=True)

    def linux_hdd_trim():
        if not own_tool:
            raise Skip('%s is not twoostwo: TRIM is checked on twoostwo '
                       'only' % harness.TWOOSTWO)
        out = m.run('cat /sys/block/sda/queue/discard_max_bytes')
        if int(out.split()[-1]) == 0:
            raise TestFailure('the guest sees no TRIM on /dev/sda '
                              '(discard_max_bytes is 0)')
        m.run('mount -t ext2 /dev/sda %s' % DISK)
        m.run('dd if=/dev/sr0 of=%s/trim.bin bs=1M count=%d && sync' % (
            DISK, TRIM_MIB))
        before = host_bytes(m.image)
        m.run('rm %s/trim.bin && sync' % DISK)
        m.run('fstrim %s' % DISK)
        after = host_bytes(m.image)
        m.run('umount %s' % DISK)
        print('# fstrim: the image went from %d to %d bytes on the host'
              % (before, after), flush=True)
        if before - after < (TRIM_MIB << 20) * 3 // 4:
            raise TestFailure('fstrim after deleting a %d MiB file freed '
                              'only %d bytes of the image on the host'
                              % (TRIM_MIB, before - after))

    r.run('linux_hdd_boot', linux_hdd_boot, *m.vms())
    r.run('linux_hdd_write', linux_hdd_write, *m.vms())
    r.run('linux_hdd_trim', linux_hdd_trim, *m.vms())
    r.run('linux_hdd_poweroff', m.power_off, *m.vms())


def second_boot(r, m, files):
    def linux_hdd_boot_again():
        m.boot()

    def linux_hdd_read_back():
        m.run('mkdir -p %s' % DISK)
        m.run('mount -t ext2 -o ro /dev/sda %s' % DISK)
        names = sorted(files)
        out = m.run('(cd %s && sha256sum %s)' % (DISK, ' '.join(names)))
        got = dict((name, digest) for digest, name in
                   re.findall(r'^([0-9a-f]{64})  (\S+)$', out, re.M))
        for name in names:
            want = hashlib.sha256(files[name]).hexdigest()
            if got.get(name) != want:
                raise TestFailure('%s reads back with sha256 %s, it was '
                                  'written with %s'
                                  % (name, got.get(name), want))
        m.run('umount %s' % DISK)

    r.run('linux_hdd_boot_again', linux_hdd_boot_again, *m.vms())
    r.run('linux_hdd_read_back', linux_hdd_read_back, *m.vms())
    r.run('linux_hdd_poweroff_again', m.power_off, *m.vms())


def tests(r):
    if 'linux_hdd' in SKIP:
        for name in CHECKS:
            print('skip %s: linux_hdd in TWOOSTWO_GUEST_SKIP' % name,
                  flush=True)
        return
    tmp = tempfile.mkdtemp(prefix='twoostwo-linux-hdd-')
    image = os.path.join(tmp, 'disk.hdd')
    machines = []
    try:
        files = {}
        own_tool = have_disk_tool()

        def linux_hdd_create():
            create_image(image, own_tool)
            files.update(expected_files())

        r.run('linux_hdd_create', linux_hdd_create)
        if not files:
            return
        machines.append(Machine(image))
        first_boot(r, machines[-1], own_tool)
        # Not powered off: SIGTERM ends it as cleanly as it can be, so
        # that the image can be checked.
        machines[-1].close()
        host_checks(r, image, tmp, files, own_tool)
        machines.append(Machine(image))
        second_boot(r, machines[-1], files)
    finally:
        for m in machines:
            m.close()
        if not KEEP:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == '__main__':
    harness.main(tests)
