#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Disk throughput of the Linux guest in twoostwo and in QEMU (TCG) on the
same raw and Parallels .hdd images, and of the host on a file beside them
as the physical limit, measured in one run. See bench/README.md for what
each number means.

The guest program is /bin/diskbench of linux.iso (guest/diskbench.c): it
does sequential 1 MiB and 4 KiB and random 4 KiB reads and writes with
O_DIRECT on /dev/sda and times them with the guest's clock. The host runs
the same program, compiled for the host, on a file of the same size, twice:
with O_DIRECT (the disk itself) and buffered (through the host's page
cache, which twoostwo and QEMU both use for their images: the limit for
them). Each
emulator boots linux.iso with a fresh image as its first IDE disk, and the
benchmark types the command on the serial shell (COM1 on a pseudo-terminal)
and reads the results there.
"""

import argparse
import collections
import fcntl
import os
import pty
import signal
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time

import benchlib
from benchlib import RunFailed
import harness  # tests/guest, on sys.path through benchlib

PHASES = ['seqwrite-1M', 'seqread-1M', 'seqwrite-4K', 'seqread-4K',
          'randwrite-4K', 'randread-4K']
FORMATS = ['raw', 'hdd']
ENGINES = ['twoostwo', 'qemu']
HOSTS = ['host-direct', 'host-cached']
MARKER = 'TWOOSTWO-LINUX-READY'
PROMPT = 'twoostwo:/# '
MEMORY_MIB = 256
BOOT_S = 600
POWEROFF_S = 30
SOURCE = benchlib.REPO / 'guest' / 'diskbench.c'


class PtyMachine:
    """An emulator whose COM1 is its stdin and stdout, a pseudo-terminal:
    what the guest sends goes to a file, which harness.SerialShell reads;
    what it types goes to the terminal."""

    def __init__(self, cmd, work, name):
        self.serial_path = os.path.join(work, name + '.serial')
        self.err_path = os.path.join(work, name + '.err')
        self.master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ,
                    struct.pack('HHHH', 30, 100, 0, 0))
        self.copy = open(self.serial_path, 'wb')
        try:
            with open(self.err_path, 'wb') as err:
                self.proc = subprocess.Popen(cmd, stdin=slave, stdout=slave,
                                             stderr=err,
                                             start_new_session=True)
        except OSError as e:
            raise RunFailed('cannot start %s: %s' % (cmd[0], e))
        finally:
            os.close(slave)
        self.reader = threading.Thread(target=self._drain, daemon=True)
        self.reader.start()

    def _drain(self):
        while True:
            try:
                data = os.read(self.master, 65536)
            except OSError:
                return
            if not data:
                return
            self.copy.write(data)
            self.copy.flush()

    def serial(self):
        with open(self.serial_path, 'rb') as f:
            return f.read()

    def send_serial(self, text):
        data = text.encode()
        while data:
            data = data[os.write(self.master, data):]

    def alive(self):
        return self.proc.poll() is None

    def wait_until(self, predicate, timeout, what):
        deadline = time.monotonic() + timeout
        while not predicate():
            if not self.alive():
                raise RunFailed('%s: exited with status %s'
                                % (what, self.proc.returncode))
            if time.monotonic() > deadline:
                raise RunFailed('%s: not within %g s' % (what, timeout))
            time.sleep(0.05)

    def close(self, timeout):
        """Wait for the emulator to end by itself, then stop it."""
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.reader.join(1)
        os.close(self.master)
        self.copy.close()


def emulator_cmd(engine, iso, image, fmt):
    if engine == 'twoostwo':
        return [benchlib.TWOOSTWO, 'run', '--cdrom', iso, '--boot', 'cd',
                '--hda', image, '--memory', '%dM' % MEMORY_MIB,
                '--display', 'none', '--serial', 'stdio']
    # The options of tests/guest/qemu-twoostwo: the same machine.
    return [benchlib.QEMU, '-accel', 'tcg', '-M', 'pc',
            '-m', str(MEMORY_MIB), '-display', 'none', '-nic', 'none',
            '-parallel', 'none', '-monitor', 'none', '-serial', 'stdio',
            '-drive', 'file=%s,media=cdrom,if=ide,index=2,readonly=on' % iso,
            '-drive', 'file=%s,format=%s,if=ide,index=0'
            % (image, 'parallels' if fmt == 'hdd' else 'raw'),
            '-boot', 'd']


def diskbench_args(args, target):
    return ['-t', str(args.phase_limit), target, str(args.region),
            str(args.ops)]


def parse_results(text):
    """{phase: (ops, bytes, seconds)} from diskbench's output."""
    results = {}
    for line in text.splitlines():
        words = line.split()
        if len(words) != 5 or words[0] != 'diskbench':
            continue
        fields = dict(w.split('=', 1) for w in words[2:] if '=' in w)
        try:
            results[words[1]] = (int(fields['ops']), int(fields['bytes']),
                                 int(fields['ns']) / 1e9)
        except (KeyError, ValueError):
            continue
    if 'diskbench done' not in text or set(results) != set(PHASES):
        last = text.strip().splitlines()[-1:] or ['(no output)']
        raise RunFailed('diskbench did not finish: %s' % last[0][:200])
    return results


def make_image(path, fmt, size_mib):
    if fmt == 'raw':
        with open(path, 'wb') as f:
            f.truncate(size_mib << 20)
        return
    rc, out, err = harness.run_command(['disk', 'create', '--force', path,
                                        '%dM' % size_mib], 60)
    if rc != 0:
        raise RunFailed('twoostwo disk create: %s'
                        % (out + err).decode('utf-8', 'replace').strip())


def run_guest(engine, fmt, args, work):
    """diskbench's results in the guest, on a fresh image; also the host
    seconds the whole command took (a check on the guest's clock)."""
    image = os.path.join(work, 'disk.' + fmt)
    make_image(image, fmt, args.region)
    iso = str(benchlib.GUESTS / 'linux.iso')
    m = PtyMachine(emulator_cmd(engine, iso, image, fmt), work,
                   '%s-%s' % (engine, fmt))
    try:
        shell = harness.SerialShell(m, PROMPT)
        start = time.monotonic()
        shell.expect_text(MARKER, BOOT_S)
        shell.expect_text(PROMPT, 60)
        boot = time.monotonic() - start
        command = ' '.join(['diskbench', *diskbench_args(args, '/dev/sda')])
        start = time.monotonic()
        out, status = shell.run(command, args.phase_limit * len(PHASES) + 60)
        took = time.monotonic() - start
        if status != 0:
            raise RunFailed('%s: exit status %d: %s'
                            % (command, status, out.strip()[-200:]))
        shell.send('poweroff -f')
    except harness.TestFailure as e:
        raise RunFailed(str(e))
    finally:
        m.close(POWEROFF_S)
        os.unlink(image)
    return parse_results(out), boot, took


def host_program(work):
    """diskbench compiled for the host."""
    exe = os.path.join(work, 'diskbench-host')
    proc = subprocess.run(['gcc', '-O2', '-o', exe, str(SOURCE)],
                          stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT)
    if proc.returncode != 0:
        raise RunFailed('gcc: %s' % proc.stdout.decode('utf-8', 'replace'))
    return exe


def run_host(args, work, exe, buffered):
    target = os.path.join(work, 'host.raw')
    make_image(target, 'raw', args.region)
    try:
        proc = subprocess.run([exe, *(['-b'] if buffered else []),
                               *diskbench_args(args, target)],
                              stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT)
    finally:
        os.unlink(target)
    return parse_results(proc.stdout.decode('utf-8', 'replace'))


def rate(result, phase):
    """MB/s for the 1 MiB phases, IOPS for the 4 KiB ones."""
    ops, nbytes, seconds = result
    if seconds <= 0:
        return None
    return nbytes / seconds / 1e6 if phase.endswith('1M') else ops / seconds


def fmt_rate(value, phase):
    if value is None:
        return '-'
    return ('%.1f MB/s' if phase.endswith('1M') else '%.0f IOPS') % value


def fmt_ratio(a, b):
    return '-' if a is None or not b else '%.3g' % (a / b)


def run(args):
    configs = [(e, f) for f in args.formats for e in args.engines]
    rates = collections.defaultdict(list)  # (config, phase) -> values
    work = tempfile.mkdtemp(prefix='disk-bench-', dir=args.dir)
    try:
        exe = host_program(work)
        for i in range(args.runs):
            for name in HOSTS:
                host = run_host(args, work, exe, name == 'host-cached')
                for phase in PHASES:
                    rates[(name, phase)].append(rate(host[phase], phase))
                log_run(args, i, name, host, None)
            for engine, fmt in configs:
                name = '%s-%s' % (engine, fmt)
                try:
                    res, boot, took = run_guest(engine, fmt, args, work)
                except RunFailed as e:
                    print('disk: %s failed: %s' % (name, e), file=sys.stderr)
                    continue
                for phase in PHASES:
                    rates[(name, phase)].append(rate(res[phase], phase))
                log_run(args, i, name, res, (boot, took))
    finally:
        for f in os.listdir(work):
            os.unlink(os.path.join(work, f))
        os.rmdir(work)
    return configs, rates


def log_run(args, i, name, res, times):
    if not args.verbose:
        return
    guest_s = sum(r[2] for r in res.values())
    extra = '' if times is None else \
        ' (boot %.1f s; the command %.1f s by the host clock)' % times
    print('  run %d %-13s %.1f s of phases by its clock%s'
          % (i + 1, name, guest_s, extra), file=sys.stderr)
    for phase in PHASES:
        print('    %-12s %s' % (phase, fmt_rate(rate(res[phase], phase),
                                                phase)), file=sys.stderr)


def report(args, configs, rates):
    def med(name, phase):
        values = [v for v in rates.get((name, phase), []) if v is not None]
        return benchlib.median(values)

    names = HOSTS + ['%s-%s' % c for c in configs]
    rows = [[p] + [fmt_rate(med(n, p), p) for n in names] for p in PHASES]
    print('Disk throughput, O_DIRECT in the guest, %d MiB region, %d ops '
          'per 4K phase, median of %d run(s) (higher is better; "-" = '
          'failed or not run)' % (args.region, args.ops, args.runs))
    print(benchlib.table(['phase'] + names, rows))
    header, rows = ['phase'], [[p] for p in PHASES]
    for fmt in args.formats:
        tw = 'twoostwo-' + fmt
        if 'twoostwo' not in args.engines:
            continue
        if 'qemu' in args.engines:
            header.append('%s: twoostwo/qemu' % fmt)
            for row, p in zip(rows, PHASES):
                row.append(fmt_ratio(med(tw, p), med('qemu-' + fmt, p)))
        header.append('%s: twoostwo/host-cached' % fmt)
        for row, p in zip(rows, PHASES):
            row.append(fmt_ratio(med(tw, p), med('host-cached', p)))
    if len(header) > 1:
        print()
        print('Ratios of the rates (above 1: twoostwo is faster)')
        print(benchlib.table(header, rows))


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('-n', '--runs', type=int, default=1,
                   help='runs of each (default 1: a twoostwo boot of the '
                   'Linux guest takes over a minute)')
    p.add_argument('--engines', nargs='+', choices=ENGINES, default=ENGINES)
    p.add_argument('--formats', nargs='+', choices=FORMATS, default=FORMATS)
    p.add_argument('--region', type=int, default=64,
                   help='MiB of the disk the phases use, also the image '
                   'size (default 64)')
    p.add_argument('--ops', type=int, default=2048,
                   help='4 KiB operations in each 4K phase (default 2048)')
    p.add_argument('--phase-limit', type=int, default=60,
                   help='seconds after which a phase stops early '
                   '(default 60)')
    p.add_argument('--dir', default=str(benchlib.REPO / 'build'),
                   help='where the images go: a disk file system, since '
                   'O_DIRECT fails on tmpfs (default build/)')
    p.add_argument('-v', '--verbose', action='store_true',
                   help='print every run')
    args = p.parse_args()
    for what in ('runs', 'region', 'ops', 'phase_limit'):
        if getattr(args, what) < 1:
            p.error('--%s must be at least 1' % what.replace('_', '-'))
    if 'qemu' in args.engines and not benchlib.have(benchlib.QEMU):
        print('disk: skipping qemu: %s not found' % benchlib.QEMU,
              file=sys.stderr)
        args.engines = [e for e in args.engines if e != 'qemu']
    os.makedirs(args.dir, exist_ok=True)
    configs, rates = run(args)
    report(args, configs, rates)


if __name__ == '__main__':
    main()
