#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Boot time of the same guests in twoostwo, QEMU (TCG) and Bochs, measured
in one run. See bench/README.md for what each number means.

Every emulator boots the same ISO with SeaBIOS and 64 MiB, and is timed
from its start until its guest's marker appears on its serial port (COM1
to a file), then stopped. twoostwo is also timed by its own
--exit-when-screen (the screen criterion). Runs are interleaved (one of
each emulator, then the next round) so that a slow spell of the host
shows in all columns alike.
"""

import argparse
import os
import sys
import tempfile

import benchlib
from benchlib import RunFailed

# name, image, serial marker, screen text: the marker is written by the
# guest when it is ready for input (see scripts/build-guests.sh).
GUESTS = [
    ('freedos', 'freedos-bench.iso', b'TWOOSTWO-DOS-READY', 'A:\\>'),
    ('isolinux', 'isolinux.iso', b'boot:', 'ISOLINUX'),
]
MEMORY_MIB = 64
ENGINES = ['twoostwo-screen', 'twoostwo', 'qemu', 'bochs']

BOCHSRC = """\
megs: {mem}
romimage: file={bios}
vgaromimage: file={vgabios}
ata0: enabled=1, ioaddr1=0x1f0, ioaddr2=0x3f0, irq=14
ata1: enabled=1, ioaddr1=0x170, ioaddr2=0x370, irq=15
ata1-master: type=cdrom, path={iso}, status=inserted
boot: cdrom
com1: enabled=1, mode=file, dev={serial}
display_library: sdl2
clock: sync=realtime, time0=local
log: {log}
speaker: enabled=0
sound: waveoutdrv=dummy, waveindrv=dummy, midioutdrv=dummy
"""


def twoostwo_cmd(iso, extra, timeout):
    return [benchlib.TWOOSTWO, 'run', '--cdrom', iso, '--boot', 'cd',
            '--memory', '%dM' % MEMORY_MIB, '--display', 'none',
            '--timeout', str(int(timeout)), *extra]


def qemu_cmd(iso, serial):
    return [benchlib.QEMU, '-accel', 'tcg', '-M', 'pc',
            '-m', str(MEMORY_MIB), '-display', 'none', '-nic', 'none',
            '-parallel', 'none', '-monitor', 'none', '-cdrom', iso,
            '-boot', 'd', '-serial', 'file:' + serial]


def bochs_cmd(iso, serial, work, bios):
    rc = os.path.join(work, 'bochsrc')
    with open(rc, 'w') as f:
        f.write(BOCHSRC.format(mem=MEMORY_MIB, bios=bios,
                               vgabios=benchlib.VGABIOS_LGPL, iso=iso,
                               serial=serial,
                               log=os.path.join(work, 'bochs.log')))
    # Debian builds Bochs with its debugger, which waits for a command
    # before the first instruction: "c" continues.
    cmds = os.path.join(work, 'bochs.cmds')
    with open(cmds, 'w') as f:
        f.write('c\n')
    return [benchlib.BOCHS, '-q', '-f', rc, '-rc', cmds]


def measure(engine, guest, work, args):
    _, image, marker, screen = guest
    iso = str(benchlib.GUESTS / image)
    serial = os.path.join(work, 'serial.txt')
    err = os.path.join(work, engine + '.err')
    if engine == 'twoostwo-screen':
        # COM1 stays attached: FreeDOS's AUTOEXEC.BAT writes to it.
        cmd = twoostwo_cmd(iso, ['--serial', 'file:' + serial,
                                 '--exit-when-screen', screen], args.timeout)
        return benchlib.exit_time(cmd, args.timeout + 5, err)
    if engine == 'twoostwo':
        cmd = twoostwo_cmd(iso, ['--serial', 'file:' + serial],
                           args.timeout)
        env = None
    elif engine == 'qemu':
        cmd, env = qemu_cmd(iso, serial), None
    else:
        cmd = bochs_cmd(iso, serial, work, args.bochs_bios)
        # Debian's Bochs has no display-less GUI; SDL's dummy driver is one.
        env = {'SDL_VIDEODRIVER': 'dummy'}
    return benchlib.marks_times(cmd, serial, [marker], args.timeout, err,
                                env)[0]


def available(engines):
    found = []
    for e in engines:
        if e.startswith('twoostwo'):
            ok = os.access(benchlib.TWOOSTWO, os.X_OK)
            what = benchlib.TWOOSTWO
        else:
            what = benchlib.QEMU if e == 'qemu' else benchlib.BOCHS
            ok = benchlib.have(what)
        if ok:
            found.append(e)
        else:
            print('boot: skipping %s: %s not found' % (e, what),
                  file=sys.stderr)
    return found


def run(args):
    engines = available(args.engines)
    guests = [g for g in GUESTS if g[0] in args.guests]
    times = {(g[0], e): [] for g in guests for e in engines}
    errors = {}
    with tempfile.TemporaryDirectory(prefix='twoostwo-bench-') as work:
        for i in range(args.runs):
            for g in guests:
                for e in engines:
                    if (g[0], e) in errors:
                        continue
                    try:
                        t = measure(e, g, work, args)
                    except RunFailed as ex:
                        errors[(g[0], e)] = str(ex)
                        print('boot: %s on %s failed: %s' % (g[0], e, ex),
                              file=sys.stderr)
                        continue
                    times[(g[0], e)].append(t)
                    if args.verbose:
                        print('  run %d %-8s %-15s %.3f s'
                              % (i + 1, g[0], e, t), file=sys.stderr)
    return guests, times


def report(guests, times, runs):
    def med(g, e):
        return benchlib.median(times.get((g, e), []))

    rows = []
    for name, *_ in guests:
        tw, q, b = med(name, 'twoostwo'), med(name, 'qemu'), \
            med(name, 'bochs')
        rows.append([name, benchlib.fmt_seconds(tw),
                     benchlib.fmt_seconds(med(name, 'twoostwo-screen')),
                     benchlib.fmt_seconds(q), benchlib.fmt_seconds(b),
                     benchlib.fmt_ratio(tw, q), benchlib.fmt_ratio(tw, b)])
    print('Boot to the guest\'s prompt: median of %d runs (lower is '
          'better; "-" = failed or not run)' % runs)
    print(benchlib.table(['guest', 'twoostwo', 'twoostwo(screen)', 'qemu',
                          'bochs', 'twoostwo/qemu', 'twoostwo/bochs'], rows))


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('-n', '--runs', type=int, default=5,
                   help='runs of each guest in each emulator (default 5)')
    p.add_argument('--guests', nargs='+', default=[g[0] for g in GUESTS],
                   choices=[g[0] for g in GUESTS])
    p.add_argument('--engines', nargs='+', default=ENGINES,
                   choices=ENGINES)
    p.add_argument('--timeout', type=float, default=120,
                   help='give up on one boot after this long (default 120)')
    p.add_argument('--bochs-bios', default=benchlib.SEABIOS,
                   help='firmware for Bochs (default SeaBIOS, as the others)')
    p.add_argument('-v', '--verbose', action='store_true',
                   help='print every run')
    args = p.parse_args()
    if args.runs < 1:
        p.error('--runs must be at least 1')
    guests, times = run(args)
    report(guests, times, args.runs)


if __name__ == '__main__':
    main()
