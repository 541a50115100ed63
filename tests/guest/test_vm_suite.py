#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The VM suite (`twoostwo vm`): two VMs in folders under a private
XDG_DATA_HOME, started in the background at once, reached through their
COM1 console sockets; ACPI stop, the folder lock, pause (the guest clock
stands), suspend and resume of a copied folder (the network works again),
damaged saved states, kill -9 during suspend, a control-socket client that
sends garbage, and a linked clone of the suspended VM. Three Linux boots in
all (two at once, then the linked clone's); everything else resumes saved
states, which takes seconds.
"""

import hashlib
import os
import re
import shutil
import struct
import signal
import socket
import subprocess
import tempfile
import termios
import time
import xml.etree.ElementTree as ET

import harness
import netlib
from harness import KEEP, TestFailure, guest, run_command, scaled

BOOT_S = 400
COMMAND_S = 60
DISK = 8 << 20
STATE = 'state.twss'
DISK_BUNDLE = 'hda.hdd'


def bundle_chain(bundle):
    """The image files of a bundle's snapshot chain, top first, read from
    DiskDescriptor.xml independently of twoostwo's reader."""
    root = ET.parse(os.path.join(bundle, 'DiskDescriptor.xml')).getroot()
    files = {i.findtext('GUID'): i.findtext('File')
             for i in root.iter('Image')}
    parents = {sh.findtext('GUID'): sh.findtext('ParentGUID')
               for sh in root.iter('Shot')}
    guid = root.findtext('Snapshots/TopGUID')
    chain = []
    while guid and guid in files:
        chain.append(os.path.normpath(os.path.join(bundle, files[guid])))
        guid = parents.get(guid)
    return chain


def hdd_read(bundle, offset, length):
    """length bytes at offset of a bundle's disk (within one cluster),
    from the newest image of the chain that allocated the cluster: a
    Parallels reader of our own (HARDWARE.md section 1)."""
    for path in bundle_chain(bundle):
        with open(path, 'rb') as f:
            hdr = f.read(64)
            v2 = hdr[:16] == b'WithouFreSpacExt'
            tracks, entries = struct.unpack_from('<II', hdr, 28)
            cluster = tracks * 512
            idx = offset // cluster
            if idx >= entries:
                raise TestFailure('%s: offset %d beyond the BAT'
                                  % (path, offset))
            f.seek(64 + 4 * idx)
            entry = struct.unpack('<I', f.read(4))[0]
            if entry:
                f.seek(entry * (cluster if v2 else 512) + offset % cluster)
                return f.read(length)
    return bytes(length)


def disk_count(folder):
    """The number the counting loop last wrote at the start of the disk."""
    data = hdd_read(os.path.join(folder, DISK_BUNDLE), 0, 16)
    return int(data.split(b'\n')[0])


def sha256_file(path):
    with open(path, 'rb') as f:
        return hashlib.sha256(f.read()).hexdigest()


def qemu_img_check(paths):
    """qemu-img as an independent reader of the .hds images: status 0."""
    if not shutil.which('qemu-img'):
        print('SKIPPED: qemu-img check: qemu-img not installed', flush=True)
        return
    for p in paths:
        res = subprocess.run(['qemu-img', 'check', '-f', 'parallels', p],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        if res.returncode != 0:
            raise TestFailure('qemu-img check %s: %s'
                              % (p, res.stdout.decode(errors='replace')))


class Suite:
    def __init__(self):
        self.top = tempfile.mkdtemp(prefix='twoostwo-vms-')
        self.home = os.path.join(self.top, 'data')
        os.environ['XDG_DATA_HOME'] = self.home
        self.failed_boot = None

    def folder(self, name):
        return os.path.join(self.home, 'twoostwo', 'vms', name)

    def vm(self, *args, timeout=120):
        status, out, err = run_command(['vm', *args], timeout=timeout)
        return status, out.decode(errors='replace'), \
            err.decode(errors='replace')

    def close(self):
        for d in self._all_folders():
            self.vm('stop', '--force', d, timeout=30)
        if not KEEP:
            shutil.rmtree(self.top, ignore_errors=True)

    def _all_folders(self):
        found = []
        for root, dirs, files in os.walk(self.top):
            if 'vm.ini' in files:
                found.append(root)
        return found


class Console:
    """A shell on a VM's COM1 through its console.sock."""

    def __init__(self, folder):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(os.path.join(folder, 'console.sock'))
        self.sock.settimeout(0.2)
        self.buf = ''
        self.n = 0

    def _read(self):
        try:
            data = self.sock.recv(65536)
        except socket.timeout:
            return
        if not data:
            raise TestFailure('console closed')
        self.buf += data.decode(errors='replace')

    def run(self, command, timeout=COMMAND_S, poke=None):
        """Run command; its output (markers computed by the shell)."""
        self.n += 1
        a, b = 1000 + 2 * self.n, 1001 + 2 * self.n
        # The echoed line shows $((N)); only the output shows N.
        line = 'echo B$((%d))B; %s; echo E$((%d))E\n' % (a, command, b)
        regex = re.compile(r'B%dB\r?\n(.*?)E%dE' % (a, b), re.S)
        end = time.monotonic() + scaled(timeout)
        sent = 0
        while time.monotonic() < end:
            if poke is not None and time.monotonic() - sent > poke:
                self.buf = ''
                self.sock.sendall(line.encode())
                sent = time.monotonic()
            elif not sent:
                self.sock.sendall(line.encode())
                sent = time.monotonic()
            self._read()
            m = regex.search(self.buf)
            if m:
                self.buf = self.buf[m.end():]
                return m.group(1).replace('\r', '')
        raise TestFailure('no answer to %r; console shows %r' %
                          (command, self.buf[-300:]))

    def close(self):
        self.sock.close()


def expect(cond, why):
    if not cond:
        raise TestFailure(why)


def one_line(err):
    return len(err.strip().splitlines()) == 1


def tests(r):
    s = Suite()
    iso = guest('linux.iso')
    consoles = {}

    # COM2 of beta is one end of a socat pty pair; the test has the other.
    s.pty_a = os.path.join(s.top, 'pty-a')
    s.pty_b = os.path.join(s.top, 'pty-b')
    socat = None
    if shutil.which('socat'):
        socat = subprocess.Popen(
            ['socat', 'pty,raw,echo=0,link=' + s.pty_a,
             'pty,raw,echo=0,link=' + s.pty_b],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(100):
            if os.path.exists(s.pty_a) and os.path.exists(s.pty_b):
                break
            time.sleep(0.05)

    def create_and_start_two():
        for name in ('alpha', 'beta'):
            ports = ['--lpt1', 'file:lp.out']
            if name == 'beta' and socat:
                ports += ['--com2', 'tty:' + s.pty_a]
            if name == 'alpha':
                # A .hdd bundle (linked clones need one) and a NAT card.
                ports += ['--disk-format', 'hdd', '--net', 'ne2k-pci,nat']
            st, out, err = s.vm('create', name, '--cdrom', iso,
                                '--memory', '128M', '--disk-size', '8M',
                                *ports)
            expect(st == 0, 'create %s: %s' % (name, err))
        for name in ('alpha', 'beta'):
            st, out, err = s.vm('start', name)
            expect(st == 0, 'start %s: %s %s' % (name, out, err))
        for name in ('alpha', 'beta'):
            c = Console(s.folder(name))
            out = c.run('echo up-$((40+2))', timeout=BOOT_S, poke=15)
            expect('up-42' in out, '%s: shell said %r' % (name, out))
            consoles[name] = c

    def list_shows_both():
        st, out, err = s.vm('list')
        expect(st == 0, 'list: %s' % err)
        for name in ('alpha', 'beta'):
            expect(re.search(r'^%s\s+running\s+\d+\s+128M' % name, out,
                             re.M), 'list:\n%s' % out)

    def second_start_refused():
        st, out, err = s.vm('start', 'alpha')
        expect(st not in (0, None), 'second start succeeded: %s' % out)
        expect(one_line(err) and re.search(r'already running \(pid \d+\)',
                                           err), 'said %r' % err)

    def control_garbage():
        path = os.path.join(s.folder('alpha'), 'control.sock')
        for junk in (b'\x00\xff\x1b[2J\n', b'x' * 10000 + b'\n',
                     b'stop now please\n', b'suspend'):
            c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            c.connect(path)
            c.sendall(junk)
            c.close()  # vanishes without reading
        time.sleep(0.5)
        st, out, err = s.vm('info', 'alpha')
        expect(st == 0 and 'ok running' in out, 'info: %s %s' % (out, err))
        out = consoles['alpha'].run('echo still-$((1+1))')
        expect('still-2' in out, 'guest after garbage: %r' % out)

    def parallel_lp_to_file():
        out = consoles['beta'].run('ls /dev/lp0 && echo lp-bytes-$((6*7)) '
                                   '>/dev/lp0; echo lp=$?')
        expect('lp=0' in out, 'guest: %r' % out)
        path = os.path.join(s.folder('beta'), 'lp.out')
        end = time.monotonic() + scaled(10)
        data = b''
        while time.monotonic() < end and b'lp-bytes-42\n' not in data:
            time.sleep(0.1)
            data = open(path, 'rb').read() if os.path.exists(path) else b''
        expect(data == b'lp-bytes-42\n', 'lp.out holds %r' % data)

    def serial_tty_passthrough():
        if not socat:
            raise harness.Skip('socat not installed')
        c = consoles['beta']
        out = c.run('stty -F /dev/ttyS1 9600 cs7 parenb parodd cstopb raw '
                    '-echo; echo st=$?')
        expect('st=0' in out, 'stty: %r' % out)
        fd = os.open(s.pty_a, os.O_RDWR | os.O_NOCTTY)
        try:
            attr = termios.tcgetattr(fd)
        finally:
            os.close(fd)
        cflag = attr[2]
        expect(attr[4] == termios.B9600 and attr[5] == termios.B9600,
               'speed %r/%r' % (attr[4], attr[5]))
        expect(cflag & termios.CSTOPB, 'not 2 stop bits')
        # Linux's pty driver forces CS8 without parity on every
        # tcsetattr (pty_set_termios), so those two need a real port.
        print('SKIPPED: serial data bits and parity: a pty keeps CS8 '
              'without parity (needs a host serial port)', flush=True)
        b = os.open(s.pty_b, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
        try:
            c.run('(head -c 10 /dev/ttyS1 >/tmp/got) & sleep 1; '
                  'echo to-host >/dev/ttyS1')
            got = b''
            end = time.monotonic() + scaled(10)
            while time.monotonic() < end and b'to-host' not in got:
                try:
                    got += os.read(b, 100)
                except BlockingIOError:
                    time.sleep(0.05)
            expect(b'to-host' in got, 'host got %r' % got)
            os.write(b, b'from-host\n')
            out = c.run('sleep 1; cat /tmp/got')
            expect('from-host' in out, 'guest got %r' % out)
        finally:
            os.close(b)
        # ptys have no modem lines (TIOCMGET fails): a real port needed.
        print('SKIPPED: serial modem lines: a pty pair has none '
              '(needs a host serial port)', flush=True)
        if not os.path.exists('/dev/parport0'):
            print('SKIPPED: ppdev pass-through: no /dev/parport0 on this '
                  'machine', flush=True)

    def acpi_stop_clean():
        c = consoles['beta']
        c.run('echo beta-disk-data | dd of=/dev/sda conv=fsync '
              '2>/dev/null')
        st, out, err = s.vm('stop', '--timeout', str(scaled(120)), 'beta',
                            timeout=200)
        expect(st == 0, 'stop: %s %s' % (out, err))
        log = open(os.path.join(s.folder('beta'), 'vm.log')).read()
        expect(re.search(r'exited with status 0', log), 'log: %s' % log)
        with open(os.path.join(s.folder('beta'), 'hda.img'), 'rb') as f:
            expect(f.read(15) == b'beta-disk-data\n', 'disk lost data')
        st, out, err = s.vm('list')
        expect(re.search(r'^beta\s+stopped', out, re.M), out)

    def wget_hello(c, tries):
        """The guest fetches hello.txt from the host's HTTP server through
        slirp; the attempt that worked."""
        out = c.run('for i in $(seq %d); do wget -q -O - '
                    'http://10.0.2.2:%d/hello.txt && break; sleep 1; done; '
                    'echo try=$i' % (tries, s.web.port), timeout=40 * tries)
        expect(s.hello in out, 'wget said %r' % out)
        return int(re.search(r'try=(\d+)', out).group(1))

    def pause_stops_guest_clock():
        c = consoles['alpha']
        t0 = float(c.run('cat /proc/uptime').split()[0])
        h0 = time.monotonic()
        st, out, err = s.vm('pause', 'alpha')
        expect(st == 0, 'pause: %s' % err)
        time.sleep(4)
        st, out, err = s.vm('unpause', 'alpha')
        expect(st == 0, 'unpause: %s' % err)
        t1 = float(c.run('cat /proc/uptime').split()[0])
        host, seen = time.monotonic() - h0, t1 - t0
        print('# paused 4 s: host %.2f s, guest uptime %.2f s' %
              (host, seen), flush=True)
        # The guest's clock stood still while paused (QEMU's virtual
        # clock does the same): it saw the commands, not the pause.
        expect(seen < host - 3, 'guest uptime went on %.2f s of %.2f s'
               % (seen, host))
        expect(seen > 0, 'guest uptime went back: %.2f' % seen)

    def suspend_copy_resume():
        c = consoles['alpha']
        c.run('udhcpc -i eth0 -s /etc/udhcpc.script -n -q -t 5 -T 2 '
              '>/dev/null 2>&1; :')
        wget_hello(c, 3)
        c.run('(n=0; while :; do n=$((n+1)); echo $n >/tmp/count; '
              'echo $n | dd of=/dev/sda conv=fsync 2>/dev/null; '
              'sleep 0.2; done) & :')
        time.sleep(3)
        before = int(c.run('cat /tmp/count').split()[0])
        c.close()
        st, out, err = s.vm('suspend', 'alpha', timeout=120)
        expect(st == 0, 'suspend: %s %s' % (out, err))
        src = s.folder('alpha')
        expect(os.path.exists(os.path.join(src, STATE)), 'no state file')
        on_disk = disk_count(src)
        expect(on_disk >= before, 'disk %d < count %d' % (on_disk, before))
        st, out, err = s.vm('list')
        expect(re.search(r'^alpha\s+suspended', out, re.M), out)
        # Elsewhere, on a fresh path, as cp -a would copy it.
        dst = os.path.join(s.top, 'elsewhere', 'alpha')
        os.makedirs(os.path.dirname(dst))
        subprocess.run(['cp', '-a', src, dst], check=True)
        s.golden = os.path.join(s.top, 'golden')
        subprocess.run(['cp', '-a', src, s.golden], check=True)
        st, out, err = s.vm('resume', dst)
        expect(st == 0, 'resume: %s %s' % (out, err))
        expect(not os.path.exists(os.path.join(dst, STATE)),
               'state kept after resume')
        c = Console(dst)
        first = int(c.run('cat /tmp/count').split()[0])
        expect(on_disk <= first <= on_disk + 10,
               'count restarted: %d after %d' % (first, on_disk))
        time.sleep(1.5)
        later = c.run('cat /tmp/count; dd if=/dev/sda count=1 2>/dev/null '
                      '| head -1')
        now, disk = [int(x) for x in later.split()[:2]]
        expect(now > first, 'count stopped at %d' % now)
        expect(abs(disk - now) <= 1, 'disk %d vs count %d' % (disk, now))
        # The network works again: slirp is new in this process, the
        # guest keeps its lease and its TCP retries past the ARP miss.
        tries = wget_hello(c, 10)
        print('# wget after resume worked at try %d' % tries, flush=True)
        c.close()
        st, out, err = s.vm('stop', '--force', dst)
        expect(st == 0, 'stop --force: %s' % err)

    def damaged_states():
        if not getattr(s, 'golden', None):
            raise TestFailure('no saved state (suspend failed)')
        size = os.path.getsize(os.path.join(s.golden, STATE))

        def damage(kind, f):
            if kind == 'truncated':
                f.truncate(size // 2)
            elif kind == 'corrupted':
                f.seek(size // 3)
                b = f.read(1)
                f.seek(size // 3)
                f.write(bytes([b[0] ^ 0x55]))
            else:
                f.seek(16)
                f.write(b'\x63\x00\x00\x00')  # format version 99

        for kind, said in (('truncated', 'not a usable saved state'),
                           ('corrupted', 'not a usable saved state'),
                           ('newer', 'newer twoostwo')):
            d = os.path.join(s.top, 'bad-' + kind)
            subprocess.run(['cp', '-a', s.golden, d], check=True)
            with open(os.path.join(d, STATE), 'r+b') as f:
                damage(kind, f)
            st, out, err = s.vm('start', d)
            expect(st not in (0, None), '%s state resumed' % kind)
            expect(one_line(err) and said in err,
                   '%s: said %r' % (kind, err))
            st, out, err = s.vm('start', '--discard-state', d)
            expect(st == 0, '%s: start from disks: %s' % (kind, err))
            st, out, err = s.vm('stop', '--force', d)
            expect(st == 0, 'stop: %s' % err)
            shutil.rmtree(d)

    def kill_during_suspend():
        if not getattr(s, 'golden', None):
            raise TestFailure('no saved state (suspend failed)')
        for delay in (0.0, 0.05, 0.3, 0.8, 1.5):
            d = os.path.join(s.top, 'kill-%g' % delay)
            subprocess.run(['cp', '-a', s.golden, d], check=True)
            st, out, err = s.vm('start', d)
            expect(st == 0, 'resume: %s' % err)
            pid = int(open(os.path.join(d, 'lock')).read())
            susp = subprocess.Popen([harness.TWOOSTWO, 'vm', 'suspend', d],
                                    stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)
            time.sleep(delay)
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass  # the suspend was done already
            susp.wait(timeout=scaled(60))
            st, out, err = s.vm('start', d)
            expect(st == 0, 'after kill at %gs: %s' % (delay, err))
            if 'resumed' in out:
                c = Console(d)
                got = c.run('cat /tmp/count')
                expect(got.split() and int(got.split()[0]) > 0,
                       'resumed state broken: %r' % got)
                c.close()
            st, out, err = s.vm('stop', '--force', d)
            expect(st == 0, 'stop: %s' % err)
            shutil.rmtree(d)

    def linked_clone():
        if not getattr(s, 'golden', None):
            raise TestFailure('no saved state (suspend failed)')
        src = os.path.join(s.top, 'lsrc')
        dst = os.path.join(s.top, 'lclone')
        subprocess.run(['cp', '-a', s.golden, src], check=True)
        st, out, err = s.vm('clone', '--linked', src, dst)
        expect(st == 0, 'clone --linked: %s %s' % (out, err))
        src_chain = bundle_chain(os.path.join(src, DISK_BUNDLE))
        dst_chain = bundle_chain(os.path.join(dst, DISK_BUNDLE))
        # The source got a new top; both stand on the same frozen base,
        # which the clone names by a relative path into the source.
        expect(len(src_chain) == 2 and len(dst_chain) == 2,
               'chains %r %r' % (src_chain, dst_chain))
        expect(src_chain[1] == dst_chain[1], 'bases differ: %r %r'
               % (src_chain, dst_chain))
        desc = open(os.path.join(dst, DISK_BUNDLE,
                                 'DiskDescriptor.xml')).read()
        expect('<File>../../lsrc/%s/' % DISK_BUNDLE in desc,
               'descriptor: %s' % desc)
        base_sha = sha256_file(src_chain[1])
        frozen = disk_count(src)
        expect(disk_count(dst) == frozen, 'clone reads %d, source %d'
               % (disk_count(dst), frozen))
        qemu_img_check(src_chain + dst_chain[:1])
        st, out, err = s.vm('delete', src)
        expect(st not in (0, None) and one_line(err) and 'lclone' in err,
               'delete of the base: %s %s' % (st, err))

        # Both run: the source resumes its counting, the clone boots.
        st, out, err = s.vm('start', src)
        expect(st == 0 and 'resumed' in out, 'resume: %s %s' % (out, err))
        st, out, err = s.vm('start', dst)
        expect(st == 0, 'start clone: %s %s' % (out, err))
        cs = Console(src)
        cd = Console(dst)
        try:
            out = cd.run('echo up-$((40+2))', timeout=BOOT_S, poke=15)
            expect('up-42' in out, 'clone shell said %r' % out)
            out = cd.run('dd if=/dev/sda count=1 2>/dev/null | head -1')
            expect(out.split() and out.split()[0] == str(frozen),
                   'clone sees %r, the source wrote %d' % (out, frozen))
            out = cd.run('echo clone-wrote | dd of=/dev/sda conv=fsync '
                         '2>/dev/null; echo w=$?')
            expect('w=0' in out, 'clone write: %r' % out)
            time.sleep(1)
            out = cs.run('cat /tmp/count')
            expect(int(out.split()[0]) > frozen, 'source stuck: %r' % out)
        finally:
            cs.close()
            cd.close()
        for d in (src, dst):
            st, out, err = s.vm('stop', '--force', d)
            expect(st == 0, 'stop %s: %s' % (d, err))
        # Neither saw the other's writes; the base did not change.
        got = hdd_read(os.path.join(dst, DISK_BUNDLE), 0, 12)
        expect(got == b'clone-wrote\n', 'clone disk holds %r' % got)
        expect(disk_count(src) > frozen, 'source disk %d, frozen %d'
               % (disk_count(src), frozen))
        expect(sha256_file(src_chain[1]) == base_sha, 'the base changed')
        qemu_img_check(src_chain + dst_chain[:1])

        # Copied alone, the clone names its missing parent in one line.
        lonely = os.path.join(s.top, 'far', 'away', 'lclone')
        os.makedirs(os.path.dirname(lonely))
        subprocess.run(['cp', '-a', dst, lonely], check=True)
        st, out, err = s.vm('start', lonely)
        expect(st not in (0, None) and one_line(err) and
               'parent image ../../lsrc/' in err and 'missing' in err,
               'lonely clone: %s %r' % (st, err))
        shutil.rmtree(lonely)
        for d in (dst, src):
            st, out, err = s.vm('delete', d)
            expect(st == 0, 'delete %s: %s' % (d, err))

    def console_prints_display():
        port = netlib.free_port()
        st, out, err = s.vm('create', 'gfx', '--cdrom', iso,
                            '--vnc', '127.0.0.1:%d' % port)
        expect(st == 0, 'create: %s' % err)
        st, out, err = s.vm('start', 'gfx')
        expect(st == 0, 'start: %s %s' % (out, err))
        try:
            st, out, err = s.vm('console', '--display', 'gfx')
            expect(st == 0, 'console --display: %s' % err)
            expect('gfx: VNC display at 127.0.0.1:%d\n' % port in out,
                   'said %r' % out)
            m = re.search(r'web console at (http://\S+)', out)
            if os.path.isdir('/usr/share/novnc'):
                expect(m, 'no web console in %r' % out)
            # What it printed answers: an RFB greeting on the VNC port.
            with socket.create_connection(('127.0.0.1', port), 10) as c:
                c.settimeout(10)
                hello = c.recv(12)
            expect(hello.startswith(b'RFB 003.'), 'port said %r' % hello)
        finally:
            s.vm('stop', '--force', 'gfx')

    webdir = tempfile.mkdtemp(prefix='twoostwo-web-')
    s.hello = 'hello-%s' % os.urandom(6).hex()
    with open(os.path.join(webdir, 'hello.txt'), 'w') as f:
        f.write(s.hello + '\n')
    s.web = netlib.HttpServer(webdir)
    try:
        r.run('vm_two_start_in_background', create_and_start_two)
        r.run('vm_list_shows_both', list_shows_both)
        r.run('vm_second_start_refused', second_start_refused)
        r.run('vm_control_garbage', control_garbage)
        r.run('vm_pause_stops_guest_clock', pause_stops_guest_clock)
        r.run('vm_parallel_lp_to_file', parallel_lp_to_file)
        r.run('vm_serial_tty_passthrough', serial_tty_passthrough)
        r.run('vm_acpi_stop_clean', acpi_stop_clean)
        r.run('vm_suspend_copy_resume', suspend_copy_resume)
        r.run('vm_damaged_states', damaged_states)
        r.run('vm_kill_during_suspend', kill_during_suspend)
        r.run('vm_linked_clone', linked_clone)
        r.run('vm_console_prints_display', console_prints_display)
    finally:
        s.web.close()
        shutil.rmtree(webdir, ignore_errors=True)
        for c in consoles.values():
            c.close()
        s.close()
        if socat:
            socat.terminate()
            socat.wait()


if __name__ == '__main__':
    harness.main(tests)
