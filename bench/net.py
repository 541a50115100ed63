#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Network throughput and latency of the Linux guest over user-mode NAT
(libslirp in both emulators), in twoostwo and in QEMU (TCG), measured in
one run with the same linux.iso:

  download  busybox wget of a random file from an HTTP server the
            benchmark runs on 127.0.0.1, reached through the NAT's
            gateway 10.0.2.2, written to /dev/null
  upload    busybox nc sending a file from the guest's tmpfs to a TCP
            server of the benchmark on 127.0.0.1, which counts the bytes
            and closes once it has them all
  ping      the average round trip of ping to the gateway (slirp answers)

Times are host wall-clock seconds from typing the command on the serial
shell to its end marker, minus the same for `true`. Cards: twoostwo's
ne2k-pci and ne2k-isa; QEMU's ne2k_pci, ne2k_isa (at 0x300, IRQ 5, where
the guest's /init looks) and e1000, a modern card, as the reference.
"""

import argparse
import os
import re
import socket
import sys
import tempfile
import threading
import time

import benchlib
from benchlib import RunFailed
import harness  # tests/guest, on sys.path through benchlib
from disk import PtyMachine

sys.path.insert(0, str(benchlib.REPO / 'tests' / 'guest'))
from netlib import HttpServer, random_file  # noqa: E402

MARKER = 'TWOOSTWO-LINUX-READY'
PROMPT = 'twoostwo:/# '
MEMORY_MIB = 256
BOOT_S = 900
CONFIGS = [('twoostwo', 'ne2k-pci'), ('twoostwo', 'ne2k-isa'),
           ('qemu', 'ne2k_pci'), ('qemu', 'ne2k_isa'), ('qemu', 'e1000')]
SAME_CARD = {'ne2k-pci': 'ne2k_pci', 'ne2k-isa': 'ne2k_isa'}


class Sink:
    """A TCP server on 127.0.0.1 that reads `size` bytes of one
    connection, then closes it."""

    def __init__(self, size):
        self.size = size
        self.got = 0
        self.sock = socket.socket()
        self.sock.bind(('127.0.0.1', 0))
        self.sock.listen(1)
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        conn, _ = self.sock.accept()
        with conn:
            while self.got < self.size:
                data = conn.recv(65536)
                if not data:
                    break
                self.got += len(data)

    def close(self):
        self.sock.close()


def emulator_cmd(engine, card, iso):
    if engine == 'twoostwo':
        return [benchlib.TWOOSTWO, 'run', '--cdrom', iso, '--boot', 'cd',
                '--memory', '%dM' % MEMORY_MIB, '--display', 'none',
                '--serial', 'stdio', '--net', card + ',nat']
    if card == 'ne2k_isa':
        nic = ['-netdev', 'user,id=n0', '-device',
               'ne2k_isa,netdev=n0,iobase=0x300,irq=5']
    else:
        nic = ['-nic', 'user,model=' + card]
    return [benchlib.QEMU, '-accel', 'tcg', '-M', 'pc',
            '-m', str(MEMORY_MIB), '-display', 'none',
            '-parallel', 'none', '-monitor', 'none', '-serial', 'stdio',
            '-cdrom', iso, '-boot', 'd'] + nic


def timed(shell, command, timeout):
    start = time.monotonic()
    out, status = shell.run(command, timeout)
    took = time.monotonic() - start
    if status != 0:
        raise RunFailed('%s: exit status %d: %s'
                        % (command, status, out.strip()[-200:]))
    return out, took


def run_one(engine, card, args, work, web):
    iso = str(benchlib.GUESTS / 'linux.iso')
    m = PtyMachine(emulator_cmd(engine, card, iso), work,
                   '%s-%s' % (engine, card))
    res = {}
    try:
        shell = harness.SerialShell(m, PROMPT)
        shell.expect_text(MARKER, BOOT_S)
        shell.expect_text(PROMPT, 60)
        timed(shell, 'killall udhcpc 2>/dev/null; true', 60)
        out, _ = timed(shell, 'udhcpc -i eth0 -s /etc/udhcpc.script -n -q '
                       '-t 10 -T 2', 120)
        if 'bound to' not in out:
            raise RunFailed('no DHCP lease: %r' % out.strip()[-200:])
        _, base = timed(shell, 'true', 60)
        _, took = timed(shell, 'wget -q -O /tmp/big http://10.0.2.2:%d/big'
                        % web.port, args.limit)
        res['download'] = args.size / max(took - base, 1e-3)
        timed(shell, 'head -c %d /tmp/big >/tmp/up; rm /tmp/big'
              % args.upload, 120)
        sink = Sink(args.upload)
        try:
            _, took = timed(shell, 'nc 10.0.2.2 %d </tmp/up' % sink.port,
                            args.limit)
        finally:
            sink.close()
        if sink.got != args.upload:
            raise RunFailed('upload: the host got %d of %d bytes'
                            % (sink.got, args.upload))
        res['upload'] = args.upload / max(took - base, 1e-3)
        out, _ = timed(shell, 'ping -c %d 10.0.2.2' % args.pings, 120)
        avg = re.search(r'min/avg/max = [\d.]+/([\d.]+)/', out)
        if not avg:
            raise RunFailed('ping: %r' % out.strip()[-200:])
        res['ping'] = float(avg.group(1))
        shell.send('poweroff -f')
    except harness.TestFailure as e:
        raise RunFailed(str(e))
    finally:
        m.close(30)
    return res


def fmt_rate(v):
    return '-' if v is None else '%.2f MB/s' % (v / 1e6)


def report(results):
    rows = []
    for engine, card in CONFIGS:
        r = results.get((engine, card), {})
        ratio = '-'
        if engine == 'twoostwo':
            q = results.get(('qemu', SAME_CARD[card]), {})
            if r.get('download') and q.get('download'):
                ratio = '%.1fx / %.1fx' % (
                    r['download'] / q['download'],
                    r.get('upload', 0) / q['upload'] if q.get('upload')
                    else 0)
        rows.append([engine, card, fmt_rate(r.get('download')),
                     fmt_rate(r.get('upload')),
                     '-' if r.get('ping') is None
                     else '%.2f ms' % r['ping'], ratio,
                     r.get('error', '')[:60]])
    print(benchlib.table(['emulator', 'card', 'download', 'upload',
                          'ping', 'vs QEMU same card (down / up)', 'note'],
                         rows))


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--size', type=int, default=16 << 20,
                   help='download size in bytes (default 16 MiB)')
    p.add_argument('--upload', type=int, default=4 << 20,
                   help='upload size in bytes (default 4 MiB)')
    p.add_argument('--pings', type=int, default=10)
    p.add_argument('--limit', type=int, default=900,
                   help='seconds one transfer may take')
    p.add_argument('--only', action='append',
                   help='ENGINE:CARD to run (repeatable; default all)')
    args = p.parse_args()
    configs = CONFIGS
    if args.only:
        configs = [c for c in CONFIGS if '%s:%s' % c in args.only]
    if not benchlib.have(os.path.basename(benchlib.QEMU)):
        print('# SKIPPED: QEMU (%s) not installed' % benchlib.QEMU)
        configs = [c for c in configs if c[0] != 'qemu']
    results = {}
    with tempfile.TemporaryDirectory(prefix='twoostwo-netbench-') as work:
        random_file(os.path.join(work, 'big'), args.size)
        web = HttpServer(work)
        try:
            for engine, card in configs:
                try:
                    results[(engine, card)] = run_one(engine, card, args,
                                                      work, web)
                except RunFailed as e:
                    results[(engine, card)] = {'error': str(e)}
                print('# %s %s: %s' % (engine, card,
                                       results[(engine, card)]),
                      flush=True)
        finally:
            web.close()
    report(results)


if __name__ == '__main__':
    main()
