#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""VNC benchmark: twoostwo's VNC server (libvncserver, ui/vnc.c) against
QEMU's (qemu-system-x86_64 -accel tcg -vga std -vnc), the same guest
program and the same client in the same run.

The guest is tests/guest/vga_modes.asm built with -DVNCBENCH: VBE
1024x768x32 with the linear framebuffer, filled one colour a frame
(`rep stosd`), a '.' on port 0x402 after each fill. The client connects
once the guest fills (QEMU's server sends a rectangle larger than the
640x480 screen libvncclient knows when the mode changes under it). The client is
build/tests/vncclient (libvncclient, encodings zrle hextile raw): it
connects, waits a second, then for --seconds counts the complete
framebuffer updates it receives and the bytes its socket received
(TCP_INFO). Meanwhile this script counts the guest's fills in the debug
log. Then a key switches the guest to repainting the whole screen in a
new colour on each key press, and the client times --keys presses from
sending the key to seeing the screen's last pixel in the new colour: the
latency a user feels, through the guest's keyboard, its fill, the
server's refresh and encoding, and the network.

Columns: guest fills/s (with the client attached), frames/s the client
received, KiB per frame on the wire, key-to-screen latency (median, min
and max, ms). The last rows are twoostwo/QEMU ratios.
"""

import argparse
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time

import benchlib
from benchlib import RunFailed

VNCCLIENT = os.path.join(os.path.dirname(benchlib.TWOOSTWO), 'tests',
                         'vncclient')
ASM = benchlib.REPO / 'tests' / 'guest' / 'vga_modes.asm'
QEMU = 'qemu-system-x86_64'
START_S = 60  # until the guest fills (SeaBIOS, the mode set)


def free_port(low):
    """A free TCP port on 127.0.0.1 at low or above, with port - 100 free
    too (twoostwo's web console)."""
    for port in range(low, low + 200):
        ok = True
        for p in (port, port - 100):
            s = socket.socket()
            try:
                s.bind(('127.0.0.1', p))
            except OSError:
                ok = False
            finally:
                s.close()
        if ok:
            return port
    raise RunFailed('no free port from %d' % low)


class DotCounter(threading.Thread):
    """Samples (time, fills so far) from the debug log every 20 ms."""

    def __init__(self, path):
        super().__init__(daemon=True)
        self.path = path
        self.samples = []
        self.running = True

    def count(self):
        """The '.' after the guest's FILLING (the firmware's own messages
        on the port have dots too)."""
        try:
            with open(self.path, 'rb') as f:
                data = f.read()
        except OSError:
            return 0
        at = data.find(b'FILLING\n')
        return data.count(b'.', at + 8) if at >= 0 else 0

    def run(self):
        while self.running:
            self.samples.append((time.monotonic(), self.count()))
            time.sleep(0.02)

    def at(self, t):
        """Fills counted by time t (the last sample not after it)."""
        best = 0
        for when, n in self.samples:
            if when > t:
                break
            best = n
        return best


def measure(name, cmd, port, log, errlog, seconds, keys):
    proc = benchlib.spawn(cmd, errlog)
    counter = DotCounter(log)
    try:
        start = time.monotonic()
        while counter.count() < 3:
            if proc.poll() is not None:
                raise RunFailed('%s: %s' % (name, benchlib._why(proc,
                                                                 errlog)))
            if time.monotonic() - start > START_S:
                raise RunFailed('%s: the guest did not start filling' % name)
            time.sleep(0.1)
        counter.start()
        client = subprocess.Popen(
            [VNCCLIENT, '127.0.0.1:%d' % port, '--hold', '1', '--measure',
             str(seconds), '--key', '61', '--hold', '1', '--latency',
             str(keys)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True)
        out = []
        measured_at = None
        for line in client.stdout:
            out.append(line)
            if line.startswith('measure '):
                measured_at = time.monotonic()
        err = client.stderr.read()
        client.wait()
        counter.running = False
        text = ''.join(out)
        m = re.search(r'^measure ([0-9.]+) frames (\d+) bytes (\d+)', text,
                      re.M)
        lat = re.search(r'^latency_ms((?: [0-9.]+)+)$', text, re.M)
        if client.returncode != 0 or not m or not lat:
            raise RunFailed('%s: vncclient: %s %s' % (name, text.strip(),
                                                      err.strip()))
        took, frames, nbytes = float(m.group(1)), int(m.group(2)), \
            int(m.group(3))
        fills = counter.at(measured_at) - counter.at(measured_at - took)
        times = sorted(float(v) for v in lat.group(1).split())
        return {
            'fills': fills / took,
            'fps': frames / took,
            'kib': nbytes / 1024 / frames if frames else None,
            'lat': benchlib.median(times),
            'lat_min': times[0],
            'lat_max': times[-1],
        }
    finally:
        counter.running = False
        benchlib._stop(proc)


def fmt(v, spec):
    return '-' if v is None else spec % v


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--seconds', type=float, default=10,
                    help='frame counting window (default 10)')
    ap.add_argument('--keys', type=int, default=20,
                    help='key presses timed (default 20)')
    ap.add_argument('--only', choices=('twoostwo', 'qemu'))
    args = ap.parse_args()
    tools = ['nasm'] + ([QEMU] if args.only != 'twoostwo' else [])
    for tool in tools:
        if not benchlib.have(tool):
            sys.exit('bench/vnc: %s is not installed' % tool)
    if not os.path.exists(VNCCLIENT):
        sys.exit('bench/vnc: %s is not built (make)' % VNCCLIENT)
    tmp = tempfile.mkdtemp(prefix='twoostwo-vncbench-')
    img = os.path.join(tmp, 'vnc.img')
    subprocess.run(['nasm', '-f', 'bin', '-DVNCBENCH', '-o', img, str(ASM)],
                   check=True)
    with open(img, 'r+b') as f:
        f.truncate(1 << 20)
    cpu = subprocess.run(['lscpu'], capture_output=True, text=True).stdout
    model = re.search(r'^Model name:\s*(.*)$', cpu, re.M)
    print('# host: %s, %d CPUs, load %.1f' % (
        model.group(1) if model else '?', os.cpu_count(),
        os.getloadavg()[0]))
    results = {}
    runs = []
    if args.only != 'qemu':
        port = free_port(5990)
        runs.append(('twoostwo', port, [
            benchlib.TWOOSTWO, 'run', '--hda', img + ',ro', '--boot', 'disk',
            '--display', 'none', '--serial', 'none', '--debug-log',
            os.path.join(tmp, 'twoostwo.log'), '--vnc',
            '127.0.0.1:%d' % port, '--timeout', '600']))
    if args.only != 'twoostwo':
        port = free_port(5990)
        runs.append(('qemu', port, [
            QEMU, '-accel', 'tcg', '-vga', 'std', '-m', '128',
            '-vnc', '127.0.0.1:%d' % (port - 5900),
            '-drive', 'file=%s,format=raw,if=ide,snapshot=on' % img,
            '-debugcon', 'file:%s' % os.path.join(tmp, 'qemu.log'),
            '-global', 'isa-debugcon.iobase=0x402', '-serial', 'none',
            '-monitor', 'none']))
    for name, port, cmd in runs:
        try:
            results[name] = measure(name, cmd, port,
                                    os.path.join(tmp, name + '.log'),
                                    os.path.join(tmp, name + '.err'),
                                    args.seconds, args.keys)
        except RunFailed as e:
            print('# %s' % e)
    header = ['', 'guest fills/s', 'frames/s to client', 'KiB/frame',
              'key-to-screen ms (median, min-max)']
    rows = []
    for name, r in results.items():
        rows.append([name, fmt(r['fills'], '%.1f'), fmt(r['fps'], '%.1f'),
                     fmt(r['kib'], '%.2f'),
                     '%.0f (%.0f-%.0f)' % (r['lat'], r['lat_min'],
                                           r['lat_max'])])
    t, q = results.get('twoostwo'), results.get('qemu')
    if t and q:
        rows.append(['twoostwo/qemu', benchlib.fmt_ratio(t['fills'],
                                                         q['fills']),
                     benchlib.fmt_ratio(t['fps'], q['fps']),
                     benchlib.fmt_ratio(t['kib'], q['kib']),
                     benchlib.fmt_ratio(t['lat'], q['lat'])])
    print(benchlib.table(header, rows))
    if not KEEP:
        subprocess.run(['rm', '-rf', tmp])
    return 0 if len(results) == len(runs) else 1


KEEP = bool(os.environ.get('TWOOSTWO_KEEP_BENCH_FILES'))

if __name__ == '__main__':
    sys.exit(main())
