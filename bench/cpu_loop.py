#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Instructions per second of the CPU engine on a tight integer loop,
against QEMU's TCG running the same firmware image.

The image (tests/guest/roms.py, cpu_loop_rom) writes 'S' to the debug
port 0x402, runs a 4-instruction 32-bit loop (add, xor, dec, jnz) until
the requested number of instructions has executed, then writes 'E'. The
time between the two marks appearing in the debug log is the loop's time;
instructions / that time is the speed. Start-up (process, firmware load)
is reported apart as the time to 'S'.
"""

import argparse
import os
import sys
import tempfile

import benchlib
import roms
from benchlib import RunFailed

ENGINES = ['twoostwo', 'qemu']
MARKS = [roms.CPU_LOOP_START, roms.CPU_LOOP_END]


def command(engine, rom, log, timeout):
    if engine == 'twoostwo':
        return [benchlib.TWOOSTWO, 'run', '--bios', rom, '--debug-log', log,
                '--display', 'none', '--serial', 'none', '--memory', '16M',
                '--timeout', str(int(timeout))]
    return [benchlib.QEMU, '-accel', 'tcg', '-M', 'pc', '-m', '16',
            '-bios', rom, '-display', 'none', '-nic', 'none',
            '-serial', 'none', '-parallel', 'none', '-monitor', 'none',
            '-debugcon', 'file:' + log,
            '-global', 'isa-debugcon.iobase=0x402']


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('-n', '--runs', type=int, default=3,
                   help='runs in each emulator (default 3)')
    p.add_argument('--instructions', type=float, default=2e8,
                   help='guest instructions in the loop (default 2e8)')
    p.add_argument('--engines', nargs='+', default=ENGINES, choices=ENGINES)
    p.add_argument('--timeout', type=float, default=300)
    args = p.parse_args()
    insns = int(args.instructions)
    insns -= insns % roms.CPU_LOOP_INSNS_PER_ITER
    results = {e: [] for e in args.engines}
    with tempfile.TemporaryDirectory(prefix='twoostwo-cpuloop-') as work:
        rom = roms.write_rom(os.path.join(work, 'cpu-loop.rom'),
                             roms.cpu_loop_rom(insns))
        log = os.path.join(work, 'debug.log')
        for _ in range(args.runs):
            for e in list(results):
                err = os.path.join(work, e + '.err')
                try:
                    start, end = benchlib.marks_times(
                        command(e, rom, log, args.timeout), log, MARKS,
                        args.timeout, err, poll=0.0005)
                except RunFailed as ex:
                    print('cpu-loop: %s failed: %s' % (e, ex),
                          file=sys.stderr)
                    del results[e]
                    continue
                results[e].append((start, end - start))
    rows = []
    for e in args.engines:
        runs = results.get(e)
        loop = benchlib.median([r[1] for r in runs]) if runs else None
        startup = benchlib.median([r[0] for r in runs]) if runs else None
        mips = '%.0f' % (insns / loop / 1e6) if loop else '-'
        rows.append([e, mips, benchlib.fmt_seconds(loop),
                     benchlib.fmt_seconds(startup)])
    print('Integer loop of %.3g instructions: median of %d runs'
          % (insns, args.runs))
    print(benchlib.table(['engine', 'MIPS', 'loop time', 'start-up'], rows))
    tw = results.get('twoostwo')
    qemu = results.get('qemu')
    if tw and qemu:
        ratio = benchlib.median([r[1] for r in tw]) / \
            benchlib.median([r[1] for r in qemu])
        print('twoostwo takes %.2fx the time of QEMU TCG on this loop'
              % ratio)


if __name__ == '__main__':
    main()
