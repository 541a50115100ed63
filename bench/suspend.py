#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Suspend/resume benchmark: a 256 MiB Linux guest (build/guests/linux.iso)
at its shell, under `twoostwo vm` and under QEMU (TCG) in the same run.

twoostwo: `vm suspend` (until the process has ended) and `vm resume` (until
the control socket answers, then until the guest's shell answers), the
size of state.twss. QEMU: stop + migrate to "exec:cat > FILE" (until info
migrate says completed), and a new QEMU with -incoming "exec:cat FILE"
(until info status says running, then until the shell answers), the size
of FILE. Also the host memory (VmRSS) and CPU (percent of one core over
SAMPLE_S seconds) of an idle VM at its shell and of a paused one.
"""

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TWOOSTWO = os.path.abspath(os.environ.get('TWOOSTWO',
                                          os.path.join(REPO, 'build',
                                                       'twoostwo')))
ISO = os.path.join(REPO, 'build', 'guests', 'linux.iso')
MEM = '256M'
BOOT_S = 600
SAMPLE_S = 10


class Shell:
    def __init__(self, path):
        end = time.monotonic() + 30
        while True:
            try:
                self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.s.connect(path)
                break
            except OSError:
                if time.monotonic() > end:
                    raise
                time.sleep(0.05)
        self.s.settimeout(0.1)
        self.n = 0

    def answer(self, timeout, poke=10):
        """Time until the shell answers an echo."""
        t0 = time.monotonic()
        self.n += 1
        want = 'ANS%dANS' % (self.n * 7)
        line = ('echo ANS$((%d))ANS\n' % (self.n * 7)).encode()
        buf, sent = '', 0
        while time.monotonic() - t0 < timeout:
            if time.monotonic() - sent > poke:
                self.s.sendall(line)
                sent = time.monotonic()
            try:
                data = self.s.recv(65536)
                if not data:
                    raise RuntimeError('console closed')
                buf += data.decode(errors='replace')
            except socket.timeout:
                pass
            if want in buf:
                return time.monotonic() - t0
        raise RuntimeError('no shell within %d s: %r' % (timeout, buf[-200:]))

    def close(self):
        self.s.close()


def cpu_ticks(pid):
    with open('/proc/%d/stat' % pid) as f:
        fields = f.read().rsplit(')', 1)[1].split()
    return int(fields[11]) + int(fields[12])


def rss_mib(pid):
    with open('/proc/%d/status' % pid) as f:
        m = re.search(r'VmRSS:\s+(\d+) kB', f.read())
    return int(m.group(1)) / 1024


def sample(pid):
    hz = os.sysconf('SC_CLK_TCK')
    a = cpu_ticks(pid)
    time.sleep(SAMPLE_S)
    b = cpu_ticks(pid)
    return rss_mib(pid), 100.0 * (b - a) / hz / SAMPLE_S


def tw(*args, check=True):
    p = subprocess.run([TWOOSTWO, 'vm', *args], capture_output=True,
                       text=True)
    if check and p.returncode:
        raise RuntimeError('vm %s: %s' % (' '.join(args), p.stderr))
    return p


def bench_twoostwo(top):
    os.environ['XDG_DATA_HOME'] = os.path.join(top, 'xdg')
    tw('create', 'b', '--cdrom', ISO, '--memory', MEM)
    folder = os.path.join(top, 'xdg', 'twoostwo', 'vms', 'b')
    tw('start', 'b')
    sh = Shell(os.path.join(folder, 'console.sock'))
    sh.answer(BOOT_S)
    time.sleep(5)
    pid = int(open(os.path.join(folder, 'lock')).read())
    idle = sample(pid)
    tw('pause', 'b')
    paused = sample(pid)
    tw('unpause', 'b')
    sh.answer(60)
    sh.close()
    t0 = time.monotonic()
    tw('suspend', 'b')
    save = time.monotonic() - t0
    size = os.path.getsize(os.path.join(folder, 'state.twss'))
    t0 = time.monotonic()
    tw('resume', 'b')
    load = time.monotonic() - t0
    sh = Shell(os.path.join(folder, 'console.sock'))
    shell = load + sh.answer(60, poke=0.5)
    sh.close()
    tw('stop', '--force', 'b', check=False)
    return save, size, load, shell, idle, paused


class Qemu:
    def __init__(self, top, extra):
        self.ser = os.path.join(top, 'q.ser')
        self.mon = os.path.join(top, 'q.mon')
        for p in (self.ser, self.mon):
            if os.path.exists(p):
                os.unlink(p)
        self.p = subprocess.Popen(
            ['qemu-system-i386', '-m', '256', '-cdrom', ISO, '-display',
             'none', '-vga', 'std', '-serial',
             'unix:%s,server=on,wait=off' % self.ser, '-monitor',
             'unix:%s,server=on,wait=off' % self.mon, *extra],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        end = time.monotonic() + 30
        while not os.path.exists(self.mon):
            if time.monotonic() > end:
                raise RuntimeError('qemu did not start')
            time.sleep(0.02)
        self.m = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.m.connect(self.mon)
        self.m.settimeout(0.05)
        self.cmd('')

    def cmd(self, line):
        self.m.sendall((line + '\n').encode())
        buf = ''
        end = time.monotonic() + 30
        while not buf.rstrip().endswith('(qemu)'):
            if time.monotonic() > end:
                raise RuntimeError('monitor: %r' % buf)
            try:
                buf += self.m.recv(65536).decode(errors='replace')
            except socket.timeout:
                pass
        return buf

    def wait_for(self, line, pattern, timeout=300):
        end = time.monotonic() + timeout
        out = ''
        while time.monotonic() < end:
            out = self.cmd(line)
            if re.search(pattern, out):
                return
            time.sleep(0.01)
        raise RuntimeError('qemu: %s never showed %s (last: %r)' %
                           (line, pattern, out[-200:]))

    def quit(self):
        try:
            self.cmd('quit')
        except Exception:
            pass
        self.p.wait(timeout=30)


def bench_qemu(top):
    state = os.path.join(top, 'qemu.state')
    q = Qemu(top, [])
    sh = Shell(q.ser)
    sh.answer(BOOT_S)
    time.sleep(5)
    idle = sample(q.p.pid)
    q.cmd('stop')
    paused = sample(q.p.pid)
    q.cmd('cont')
    sh.answer(60)
    sh.close()
    t0 = time.monotonic()
    q.cmd('stop')
    q.cmd('migrate "exec:cat > %s"' % state)
    q.wait_for('info migrate', r'Migration status: completed')
    save = time.monotonic() - t0
    q.quit()
    size = os.path.getsize(state)
    t0 = time.monotonic()
    q = Qemu(top, ['-incoming', 'exec:cat %s' % state])
    # Loaded once the status leaves "inmigrate"; it may stay paused.
    q.wait_for('info status', r'VM status: (running|paused(?! \(inmigrate))',
               timeout=120)
    load = time.monotonic() - t0
    if 'running' not in q.cmd('info status'):
        q.cmd('cont')
    sh = Shell(q.ser)
    shell = load + sh.answer(60, poke=0.5)
    sh.close()
    q.quit()
    return save, size, load, shell, idle, paused


def main():
    top = tempfile.mkdtemp(prefix='twoostwo-bench-suspend-')
    rows = []
    try:
        # --only qemu|twoostwo: one side (for reruns).
        only = sys.argv[2] if sys.argv[1:2] == ['--only'] else None
        if only != 'qemu':
            rows.append(('twoostwo', bench_twoostwo(top)))
        if only == 'twoostwo':
            pass
        elif shutil.which('qemu-system-i386'):
            try:
                rows.append(('qemu (TCG)', bench_qemu(top)))
            except Exception as e:  # still print what was measured
                print('qemu failed: %s' % e)
        else:
            print('SKIPPED: qemu-system-i386 not installed')
    finally:
        shutil.rmtree(top, ignore_errors=True)
    print('256 MiB Linux guest at its shell (linux.iso)')
    print('%-11s %8s %10s %9s %9s %17s %17s' % (
        '', 'save s', 'state MiB', 'load s', 'shell s',
        'idle MiB/%CPU', 'paused MiB/%CPU'))
    for name, (save, size, load, shell, idle, paused) in rows:
        print('%-11s %8.2f %10.1f %9.2f %9.2f %9.0f/%6.1f %9.0f/%6.1f' % (
            name, save, size / 2**20, load, shell, idle[0], idle[1],
            paused[0], paused[1]))


if __name__ == '__main__':
    sys.exit(main())
