# SPDX-License-Identifier: MIT
"""Shared pieces of the benchmarks: where things are, and timing a process
until a marker shows up in a file it writes."""

import os
import pathlib
import re
import signal
import statistics
import subprocess
import sys
import time

REPO = pathlib.Path(__file__).resolve().parents[1]
TWOOSTWO = os.path.abspath(os.environ.get('TWOOSTWO',
                                          REPO / 'build' / 'twoostwo'))
GUESTS = pathlib.Path(os.environ.get('TWOOSTWO_GUESTS',
                                     REPO / 'build' / 'guests'))
QEMU = 'qemu-system-i386'
QEMU64 = 'qemu-system-x86_64'  # for the 64-bit guest (bench/boot.py)
BOCHS = 'bochs'
SEABIOS = '/usr/share/seabios/bios.bin'
VGABIOS_LGPL = '/usr/share/vgabios/vgabios.bin'

sys.path.insert(0, str(REPO / 'tests' / 'guest'))


class RunFailed(Exception):
    pass


def _read(path):
    try:
        with open(path, 'rb') as f:
            return f.read()
    except OSError:
        return b''


def _stop(proc):
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def spawn(cmd, errlog, env=None):
    """Start cmd in its own process group, stderr to errlog."""
    full_env = dict(os.environ, **(env or {}))
    with open(errlog, 'wb') as err:
        try:
            return subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                    stdout=subprocess.DEVNULL, stderr=err,
                                    start_new_session=True, env=full_env)
        except OSError as e:
            raise RunFailed('cannot start %s: %s' % (cmd[0], e))


def _why(proc, errlog):
    tail = _read(errlog).decode('utf-8', 'replace').strip().splitlines()
    return 'exited with status %s%s' % (
        proc.returncode, (': ' + tail[-1][:120]) if tail else '')


def marks_times(cmd, path, marks, timeout, errlog, env=None, poll=0.002):
    """Seconds from start until each of marks (bytes, in order) is in the
    file at path; the process is stopped after the last one."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    start = time.monotonic()
    proc = spawn(cmd, errlog, env)
    times = []
    try:
        while len(times) < len(marks):
            data = _read(path)
            while len(times) < len(marks) and marks[len(times)] in data:
                times.append(time.monotonic() - start)
            if len(times) == len(marks):
                break
            if proc.poll() is not None:
                raise RunFailed(_why(proc, errlog))
            if time.monotonic() - start > timeout:
                raise RunFailed('no %r within %g s'
                                % (marks[len(times)], timeout))
            time.sleep(poll)
    finally:
        _stop(proc)
    return times


def exit_time(cmd, timeout, errlog, env=None):
    """Seconds until cmd exits with status 0."""
    start = time.monotonic()
    proc = spawn(cmd, errlog, env)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        _stop(proc)
        raise RunFailed('still running after %g s' % timeout)
    elapsed = time.monotonic() - start
    if proc.returncode != 0:
        raise RunFailed(_why(proc, errlog))
    return elapsed


# What twoostwo prints at exit with TWOOSTWO_STATS=1 (src/machine/pc_run.c).
_STATS = re.compile(rb'twoostwo: stats: (\d+) instructions in ([0-9.]+) s')


def twoostwo_rate(errlog):
    """Guest instructions per second from the stats line in a twoostwo
    stderr log: its count over its own run time; None without the line."""
    found = _STATS.findall(_read(errlog))
    if not found:
        return None
    count, seconds = found[-1]
    return int(count) / float(seconds) if float(seconds) > 0 else None


def median(values):
    return statistics.median(values) if values else None


def fmt_seconds(value):
    return '-' if value is None else '%.2f s' % value


def fmt_ratio(a, b):
    return '-' if a is None or b is None or b == 0 else '%.2fx' % (a / b)


def table(header, rows):
    """Rows of strings, columns padded to their widest cell."""
    widths = [max(len(r[i]) for r in [header] + rows)
              for i in range(len(header))]
    lines = []
    for r in [header] + rows:
        lines.append('  '.join(c.ljust(w) for c, w in zip(r, widths))
                     .rstrip())
    return '\n'.join(lines)


def have(program):
    return any(os.access(os.path.join(d, program), os.X_OK)
               for d in os.environ.get('PATH', '').split(os.pathsep))
