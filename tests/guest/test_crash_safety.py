#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Crash safety of Parallels images (issue 4, point 3).

A firmware workload (roms.crash_workload_rom) writes self-describing
records at pseudo-random LBAs of an expanding .hdd through the IDE
controller, by PIO and by bus-master DMA, and after every few writes
issues FLUSH CACHE and reports the last flushed sequence number on the
debug port. The test kills twoostwo with SIGKILL at a random moment, then:

* `twoostwo disk check` finds no corruption (the in-use flag and leaked
  clusters are allowed; every other kill point --repair clears them and
  a second check is clean);
* the image read back through `twoostwo disk convert` holds, for every
  LBA written by a flushed write, the latest flushed record or a later
  one for that LBA; no sector holds anything the workload did not write
  there; sectors it did not write keep their previous content;
* the next kill point runs on the same image: twoostwo must start on the
  image a crash left dirty (saying so), and keep it consistent.

A second twoostwo opening the image while the first runs must fail with
one line naming the holder's pid. The seed is printed; set
TWOOSTWO_CRASH_SEED to replay the same workloads and kill delays, and
TWOOSTWO_CRASH_KILLS for more or fewer kill points (default 50).
"""

import os
import random
import re
import signal
import struct
import tempfile
import time

import harness
import roms
from harness import Skip, TestFailure, Vm, run_command

KILLS = int(os.environ.get('TWOOSTWO_CRASH_KILLS', '50'))
SLOTS = 16384
SPACING = 16  # sectors between slots: 8 KiB, two 4 KiB clusters
CLUSTER = '4K'
DISK_SECTORS = SLOTS * SPACING  # 128 MiB
FLUSH_EVERY = 4
MAX_KILL_DELAY_S = 0.5
SECTOR = 512
LOG_LINE = re.compile(rb'F([0-9a-f]{8})')


def need_disk_tool():
    """The QEMU stand-in (tests/guest/qemu-twoostwo) has no disk tool."""
    status, _, _ = run_command(['disk', '--help'])
    if status != 0:
        raise Skip('%s has no disk command' % harness.TWOOSTWO)


def disk_tool(*args):
    status, out, err = run_command(['disk', *args], timeout=60)
    if status is None:
        raise TestFailure('disk %s: did not finish' % ' '.join(args))
    return status, out.decode('utf-8', 'replace'), \
        err.decode('utf-8', 'replace')


def last_flushed(log, seq_base):
    """The last sequence number the ROM reported flushed (seq_base if
    none); the log must hold the boot mark and whole report lines only,
    apart from one the kill cut short."""
    if not log.startswith(roms.CRASH_BOOT_MARK):
        raise TestFailure('debug log does not start with the boot mark: %r'
                          % log[:40])
    if roms.CRASH_ERROR_MARK in log:
        raise TestFailure('the workload saw a disk error: %r' % log[-80:])
    lines = log[len(roms.CRASH_BOOT_MARK):].split(b'\n')
    flushed = seq_base
    for line in lines[:-1]:
        m = LOG_LINE.fullmatch(line)
        if not m or int(m.group(1), 16) != flushed + FLUSH_EVERY:
            raise TestFailure('bad report %r after %#x' % (line, flushed))
        flushed += FLUSH_EVERY
    return flushed


def nonzero_sectors(data, first_lba, out):
    for i in range(0, len(data), SECTOR):
        s = data[i:i + SECTOR]
        if s.count(0) != SECTOR:
            out[first_lba + i // SECTOR] = s


def read_with_twoostwo(img, raw):
    """The image's non-zero sectors through `twoostwo disk convert`."""
    status, _, err = disk_tool('convert', '--force', img, raw)
    if status != 0:
        raise TestFailure('disk convert: status %d: %s' % (status, err))
    if os.path.getsize(raw) != DISK_SECTORS * SECTOR:
        raise TestFailure('converted image has %d bytes'
                          % os.path.getsize(raw))
    out = {}
    chunk = 1 << 16
    zero = bytes(chunk)
    with open(raw, 'rb') as f:
        base = 0
        while True:
            data = f.read(chunk)
            if not data:
                break
            if data != zero[:len(data)]:
                nonzero_sectors(data, base // SECTOR, out)
            base += len(data)
    os.unlink(raw)
    return out


def read_hdd(img):
    """The image's non-zero sectors, read here from the format facts of
    HARDWARE.md section 1 (v2: BAT entries count clusters): {lba: bytes}.
    Quicker than a convert, whose fdatasync of the copy can take seconds
    on a busy host; the two readings are compared on some kill points."""
    with open(img, 'rb') as f:
        hdr = f.read(64)
        magic, version, _, _, tracks, entries, sectors = \
            struct.unpack_from('<16sIIIIIQ', hdr)
        if magic != b'WithouFreSpacExt' or version != 2 or \
                sectors != DISK_SECTORS:
            raise TestFailure('unexpected image header %r' % hdr)
        cluster = tracks * SECTOR
        bat = struct.unpack('<%dI' % entries, f.read(4 * entries))
        out = {}
        for i, e in enumerate(bat):
            if e:
                f.seek(e * cluster)
                nonzero_sectors(f.read(cluster), i * tracks, out)
    return out


class Model:
    """What each sector may hold, kill point after kill point."""

    def __init__(self):
        self.disk = {}  # lba -> content after the last kill point

    def verify(self, found, writes, flushed):
        """found: the image's sectors after a kill; writes: every write
        the ROM may have issued (seq, lba, dma); flushed: the last seq
        known to be flushed. Returns how many sectors were checked."""
        issued = {}  # lba -> seqs that wrote it
        latest = {}  # lba -> latest flushed seq that wrote it
        for seq, first, _ in writes:
            for lba in range(first, first + roms.CRASH_SECTORS_PER_WRITE):
                issued.setdefault(lba, set()).add(seq)
                if seq <= flushed:
                    latest[lba] = max(latest.get(lba, 0), seq)
        for lba in set(found) | set(issued) | set(self.disk):
            self._check(lba, found.get(lba), self.disk.get(lba),
                        issued.get(lba, ()), latest.get(lba))
        self.disk = found
        return len(set(found) | set(issued))

    @staticmethod
    def _check(lba, now, before, seqs, latest):
        if not seqs and now == before:
            return  # not written this time, and unchanged
        rec = roms.crash_parse_record(now) if now else None
        if rec and rec[1] != lba:
            raise TestFailure('LBA %d holds the record of LBA %d (seq %#x)'
                              % (lba, rec[1], rec[0]))
        if latest is not None:
            if not rec:
                raise TestFailure('LBA %d: flushed write %#x lost: %s'
                                  % (lba, latest, describe(now)))
            if rec[0] < latest or rec[0] not in seqs:
                raise TestFailure('LBA %d: seq %#x, want %#x or a later '
                                  'write to it' % (lba, rec[0], latest))
            return
        if now == before:
            return
        if not rec or rec[0] not in seqs:
            raise TestFailure('LBA %d holds %s, never written there (was %s)'
                              % (lba, describe(now), describe(before)))


def describe(sector):
    if sector is None:
        return 'zeros'
    rec = roms.crash_parse_record(sector)
    if rec:
        return 'record seq %#x' % rec[0]
    return 'garbage %r' % sector[:16]


def check_image(img, repair, stats):
    """disk check: no corruption; repair (when asked) leaves it clean."""
    status, out, err = disk_tool('check', img)
    clean = status == 0 and 'No errors' in out
    if not clean and (status != 3 or
                      not re.search(r'^0 corruption', out, re.M)):
        raise TestFailure('disk check: status %d: %s%s' % (status, out, err))
    m = re.search(r'^0 corruption\(s\), (\d+) leaked', out, re.M)
    stats['leaked'] += int(m.group(1)) if m else 0
    if status == 0 or not repair:
        return
    status, out, err = disk_tool('check', '--repair', img)
    if status != 0:
        raise TestFailure('disk check --repair: status %d: %s%s'
                          % (status, out, err))
    status, out, err = disk_tool('check', img)
    if status != 0 or 'No errors' not in out:
        raise TestFailure('check after --repair: status %d: %s%s'
                          % (status, out, err))
    stats['repaired'] += 1


def second_opener_refused(rom, img, holder):
    status, _, err = run_command(['run', '--bios', rom, '--hda', img,
                                  '--display', 'none', '--serial', 'none',
                                  '--timeout', '10'], timeout=20)
    lines = err.decode('utf-8', 'replace').splitlines()
    want = 'in use by another process (pid %d)' % holder
    if status in (None, 0) or len(lines) != 1 or want not in lines[0]:
        raise TestFailure('second writer: status %s, stderr %r; want one '
                          'line with %r' % (status, lines[:4], want))


def close_vm(vm):
    """Close now (50 runs): the harness shows no diagnostics of it later,
    so the caller adds them to its failure."""
    vm.close()
    Vm.started.remove(vm)


def one_kill_point(k, rng, d, img, model, stats):
    seed = rng.randrange(1, 1 << 32)
    seq_base = k << 24
    delay = rng.uniform(0, MAX_KILL_DELAY_S)
    rom = roms.write_rom(os.path.join(d, 'crash.rom'),
                         roms.crash_workload_rom(seed, seq_base, SLOTS,
                                                 SPACING, FLUSH_EVERY))
    vm = Vm('--bios', rom, '--hda', img)
    try:
        vm.wait_for_file_text(vm.debug_log_path, roms.CRASH_BOOT_MARK, 30)
        if stats['dirty_before']:
            if b'not closed cleanly' not in vm.stderr():
                raise TestFailure('opened a dirty image without saying so')
            stats['dirty_opens'] += 1
        if k == 0:
            second_opener_refused(rom, img, vm.proc.pid)
        time.sleep(delay)  # the random kill moment, not a wait
        if not vm.alive():
            raise TestFailure('twoostwo exited (status %s) before the kill'
                              % vm.proc.returncode)
        os.killpg(vm.proc.pid, signal.SIGKILL)
        vm.proc.wait()
        log = vm.debug_log()
    except TestFailure as e:
        raise TestFailure('%s\n%s' % (e, vm.diagnostics()))
    finally:
        close_vm(vm)
    flushed = last_flushed(log, seq_base)
    writes = roms.crash_writes(seed, seq_base,
                               flushed - seq_base + FLUSH_EVERY, SLOTS,
                               SPACING, True)
    repair = k % 2 == 0
    check_image(img, repair, stats)
    stats['dirty_before'] = not repair
    found = read_hdd(img)
    if k % 10 == 0 or k == KILLS - 1:
        if read_with_twoostwo(img, os.path.join(d, 'image.raw')) != found:
            raise TestFailure('disk convert reads the image differently')
    stats['sectors'] += model.verify(found, writes, flushed)
    stats['flushed'] += flushed - seq_base
    stats['dma'] += sum(1 for w in writes[:flushed - seq_base] if w[2])


def closes_cleanly(d, img):
    """A last run stopped with SIGTERM clears the in-use flag."""
    rom = roms.write_rom(os.path.join(d, 'crash.rom'),
                         roms.crash_workload_rom(1, 0xFF000000, SLOTS,
                                                 SPACING, FLUSH_EVERY))
    vm = Vm('--bios', rom, '--hda', img)
    try:
        vm.wait_for_file_text(vm.debug_log_path, roms.CRASH_BOOT_MARK, 30)
        vm.stop_cleanly()
    except TestFailure as e:
        raise TestFailure('%s\n%s' % (e, vm.diagnostics()))
    finally:
        close_vm(vm)
    status, out, err = disk_tool('check', img)
    if status not in (0, 3) or 'not closed cleanly' in out:
        raise TestFailure('after a clean stop: status %d: %s%s'
                          % (status, out, err))


def tests(r):
    tmp = tempfile.TemporaryDirectory(prefix='twoostwo-crash-')
    d = tmp.name
    seed = int(os.environ.get('TWOOSTWO_CRASH_SEED',
                              random.SystemRandom().randrange(1 << 31)))

    def crash_safety():
        need_disk_tool()
        print('crash_safety: seed %d (TWOOSTWO_CRASH_SEED=%d replays it)'
              % (seed, seed), flush=True)
        rng = random.Random(seed)
        img = os.path.join(d, 'disk.hdd')
        status, out, err = disk_tool('create', '--cluster-size', CLUSTER,
                                     img, '%dK' % (DISK_SECTORS // 2))
        if status != 0:
            raise TestFailure('disk create: %s%s' % (out, err))
        model = Model()
        stats = dict(flushed=0, dma=0, sectors=0, leaked=0, repaired=0,
                     dirty_opens=0, dirty_before=False)
        start = time.monotonic()
        for k in range(KILLS):
            try:
                one_kill_point(k, rng, d, img, model, stats)
            except TestFailure as e:
                raise TestFailure('kill point %d (seed %d): %s'
                                  % (k, seed, e))
        closes_cleanly(d, img)
        print('crash_safety: %d kill points in %.1f s: %d flushed writes '
              '(%d by DMA), %d sector checks, %d leaked clusters seen, '
              '%d repairs, %d reopenings of a dirty image'
              % (KILLS, time.monotonic() - start, stats['flushed'],
                 stats['dma'], stats['sectors'], stats['leaked'],
                 stats['repaired'], stats['dirty_opens']), flush=True)
        if stats['dma'] == 0 or stats['flushed'] == 0:
            raise TestFailure('the workload flushed no DMA write')

    try:
        r.run('crash_safety', crash_safety)
    finally:
        tmp.cleanup()


if __name__ == '__main__':
    harness.main(tests)
