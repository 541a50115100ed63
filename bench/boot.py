#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Boot time of the same guests in twoostwo, QEMU (TCG) and Bochs, measured
in one run. See bench/README.md for what each number means.

Every emulator boots the same ISO with SeaBIOS and the same memory (the
guest's), and is timed from its start until its guest's marker appears on
its serial port (COM1 to a file), then stopped. twoostwo is also timed by
its own --exit-when-screen (the screen criterion), and reports how many
guest instructions it ran (TWOOSTWO_STATS=1). Runs are interleaved (one of
each emulator, then the next round) so that a slow spell of the host
shows in all columns alike.
"""

import argparse
import collections
import os
import sys
import tempfile

import benchlib
from benchlib import RunFailed

ENGINES = ['twoostwo-screen', 'twoostwo', 'qemu', 'bochs']

# The marker is written to COM1 by the guest when it is ready for input (see
# scripts/build-guests.sh); screen is the text for --exit-when-screen.
# memory (MiB) is given to every emulator alike; timeout (s) is one run's
# limit unless --timeout says otherwise; engines are the ones run unless
# --engines says otherwise; qemu is the QEMU that boots it.
Guest = collections.namedtuple('Guest', 'name image marker screen memory '
                               'timeout engines qemu',
                               defaults=[benchlib.QEMU])
GUESTS = [
    Guest('freedos', 'freedos-bench.iso', b'TWOOSTWO-DOS-READY', 'A:\\>',
          64, 120, ENGINES),
    Guest('isolinux', 'isolinux.iso', b'boot:', 'ISOLINUX', 64, 120,
          ENGINES),
    # The soft CPU boots it in about 70 s, QEMU in about 5 s; Bochs would
    # take many minutes, so it runs only when --engines asks for it.
    Guest('linux', 'linux.iso', b'TWOOSTWO-LINUX-READY',
          'TWOOSTWO-LINUX-READY', 256, 600, ['twoostwo', 'qemu']),
    # The 64-bit guest (Debian's amd64 kernel), against QEMU's 64-bit
    # system emulator with its default CPU (qemu64).
    Guest('linux64', 'linux64.iso', b'TWOOSTWO-LINUX-READY',
          'TWOOSTWO-LINUX-READY', 256, 600, ['twoostwo', 'qemu'],
          benchlib.QEMU64),
]

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


def twoostwo_cmd(iso, memory, extra, timeout):
    return [benchlib.TWOOSTWO, 'run', '--cdrom', iso, '--boot', 'cd',
            '--memory', '%dM' % memory, '--display', 'none',
            '--timeout', str(int(timeout)), *extra]


def qemu_cmd(qemu, iso, memory, serial):
    return [qemu, '-accel', 'tcg', '-M', 'pc',
            '-m', str(memory), '-display', 'none', '-nic', 'none',
            '-parallel', 'none', '-monitor', 'none', '-cdrom', iso,
            '-boot', 'd', '-serial', 'file:' + serial]


def bochs_cmd(iso, memory, serial, work, bios):
    rc = os.path.join(work, 'bochsrc')
    with open(rc, 'w') as f:
        f.write(BOCHSRC.format(mem=memory, bios=bios,
                               vgabios=benchlib.VGABIOS_LGPL, iso=iso,
                               serial=serial,
                               log=os.path.join(work, 'bochs.log')))
    # Debian builds Bochs with its debugger, which waits for a command
    # before the first instruction: "c" continues.
    cmds = os.path.join(work, 'bochs.cmds')
    with open(cmds, 'w') as f:
        f.write('c\n')
    return [benchlib.BOCHS, '-q', '-f', rc, '-rc', cmds]


def measure(engine, guest, work, timeout, bochs_bios):
    """Seconds to the guest's marker, and for the twoostwo (serial) run
    also its guest instructions per second (None if it printed none)."""
    iso = str(benchlib.GUESTS / guest.image)
    serial = os.path.join(work, 'serial.txt')
    err = os.path.join(work, engine + '.err')
    if engine == 'twoostwo-screen':
        # COM1 stays attached: FreeDOS's AUTOEXEC.BAT writes to it.
        cmd = twoostwo_cmd(iso, guest.memory,
                           ['--serial', 'file:' + serial,
                            '--exit-when-screen', guest.screen], timeout)
        return benchlib.exit_time(cmd, timeout + 5, err), None
    if engine == 'twoostwo':
        cmd = twoostwo_cmd(iso, guest.memory, ['--serial', 'file:' + serial],
                           timeout)
        # It prints its count when it stops (on the SIGTERM that ends the
        # run), so the count covers the boot and the moment until then.
        env = {'TWOOSTWO_STATS': '1'}
    elif engine == 'qemu':
        cmd, env = qemu_cmd(guest.qemu, iso, guest.memory, serial), None
    else:
        cmd = bochs_cmd(iso, guest.memory, serial, work, bochs_bios)
        # Debian's Bochs has no display-less GUI; SDL's dummy driver is one.
        env = {'SDL_VIDEODRIVER': 'dummy'}
    t = benchlib.marks_times(cmd, serial, [guest.marker], timeout, err,
                             env)[0]
    rate = benchlib.twoostwo_rate(err) if engine == 'twoostwo' else None
    return t, rate


def available(engines, guests):
    """(guest name, engine) pairs that can run."""
    found = []
    for g in guests:
        for e in engines:
            if e.startswith('twoostwo'):
                ok = os.access(benchlib.TWOOSTWO, os.X_OK)
                what = benchlib.TWOOSTWO
            else:
                what = g.qemu if e == 'qemu' else benchlib.BOCHS
                ok = benchlib.have(what)
            if ok:
                found.append((g.name, e))
            else:
                print('boot: skipping %s on %s: %s not found'
                      % (g.name, e, what), file=sys.stderr)
    return found


def run(args):
    guests = [g for g in GUESTS if g.name in args.guests]
    wanted = set(args.engines or [e for g in guests for e in g.engines])
    found = available([e for e in ENGINES if e in wanted], guests)
    times, rates, errors = collections.defaultdict(list), {}, {}
    with tempfile.TemporaryDirectory(prefix='twoostwo-bench-') as work:
        for i in range(args.runs):
            for g in guests:
                for e in [e for e in (args.engines or g.engines)
                          if (g.name, e) in found]:
                    if (g.name, e) in errors:
                        continue
                    timeout = args.timeout or g.timeout
                    try:
                        t, rate = measure(e, g, work, timeout,
                                          args.bochs_bios)
                    except RunFailed as ex:
                        errors[(g.name, e)] = str(ex)
                        print('boot: %s on %s failed: %s' % (g.name, e, ex),
                              file=sys.stderr)
                        continue
                    times[(g.name, e)].append(t)
                    if rate is not None:
                        rates.setdefault(g.name, []).append(rate)
                    if args.verbose:
                        print('  run %d %-8s %-15s %.3f s%s'
                              % (i + 1, g.name, e, t,
                                 '' if rate is None else
                                 '  %.1f M instructions/s' % (rate / 1e6)),
                              file=sys.stderr)
    return guests, times, rates


def report(guests, times, rates, runs):
    def med(g, e):
        return benchlib.median(times.get((g, e), []))

    def rate(g):
        if not times.get((g, 'twoostwo')):
            return '-'
        value = benchlib.median(rates.get(g, []))
        return 'n/a' if value is None else '%.1f M/s' % (value / 1e6)

    rows = []
    for g in guests:
        tw, q, b = med(g.name, 'twoostwo'), med(g.name, 'qemu'), \
            med(g.name, 'bochs')
        rows.append([g.name, benchlib.fmt_seconds(tw),
                     benchlib.fmt_seconds(med(g.name, 'twoostwo-screen')),
                     benchlib.fmt_seconds(q), benchlib.fmt_seconds(b),
                     benchlib.fmt_ratio(tw, q), benchlib.fmt_ratio(tw, b),
                     rate(g.name)])
    print('Boot to the guest\'s prompt: median of %d runs (lower is '
          'better; "-" = failed or not run)' % runs)
    print(benchlib.table(['guest', 'twoostwo', 'twoostwo(screen)', 'qemu',
                          'bochs', 'twoostwo/qemu', 'twoostwo/bochs',
                          'twoostwo insns/s'], rows))


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('-n', '--runs', type=int, default=5,
                   help='runs of each guest in each emulator (default 5)')
    p.add_argument('--guests', nargs='+', default=[g.name for g in GUESTS],
                   choices=[g.name for g in GUESTS])
    p.add_argument('--engines', nargs='+', choices=ENGINES,
                   help='for every guest (default: all but bochs for linux '
                   'and linux64, all for the others)')
    p.add_argument('--timeout', type=float,
                   help='give up on one boot after this long (default 600 '
                   's for linux and linux64, 120 s for the others)')
    p.add_argument('--bochs-bios', default=benchlib.SEABIOS,
                   help='firmware for Bochs (default SeaBIOS, as the others)')
    p.add_argument('-v', '--verbose', action='store_true',
                   help='print every run')
    args = p.parse_args()
    if args.runs < 1:
        p.error('--runs must be at least 1')
    if args.timeout is not None and args.timeout <= 0:
        p.error('--timeout must be positive')
    guests, times, rates = run(args)
    report(guests, times, rates, args.runs)


if __name__ == '__main__':
    main()
