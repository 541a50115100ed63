#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Networking of the default Linux guest: both NE2000 cards over
libslirp's NAT and over a VDE switch (test_linux_netboot.py has the
network boot and the bridge).

Boots are few and shared (a boot is minutes of soft CPU on a busy host):

  A  ne2k-pci on nat (port forward, pcap-less) + ne2k-isa on a VDE switch
  B  ne2k-isa on nat (port forward) + ne2k-pci on the same switch (pcap)

A and B boot side by side. Each card's driver is found by its MAC.
"""

import os
import re
import shutil
import signal
import subprocess
import tempfile
import time

import harness
from harness import KEEP, Skip, TestFailure, run_command
from netlib import HttpServer, NetLinux, free_port, random_file

MAC = {
    'a_nat': '52:54:00:7e:00:a1', 'a_vde': '52:54:00:7e:00:a2',
    'b_nat': '52:54:00:7e:00:b1', 'b_vde': '52:54:00:7e:00:b2',
    'c_nat': '52:54:00:7e:00:c1', 'c_br': '52:54:00:7e:00:c2',
}
BIG = 16 << 20
FWD_GUEST_PORT = 8080
FWD_SIZE = 1 << 20
VDE_NET = '192.168.77.'
NC_PORT = 5000
NC_KIB = 512


def iface(m, mac):
    """The guest's interface with this MAC."""
    out = m.run('ifconfig -a')
    for block in out.split('\n\n'):
        if mac.lower() in block.lower():
            return block.split()[0]
    raise TestFailure('no interface with MAC %s: %r' % (mac, out))


def slirp_checks(r, m, card, nat_mac, host_port, web, big_sha):
    def dhcp():
        addr = m.dhcp(iface(m, nat_mac))
        if addr != '10.0.2.15':
            raise TestFailure('leased %s, not 10.0.2.15' % addr)

    def wget():
        start = time.monotonic()
        m.run('wget -q -O /tmp/big http://10.0.2.2:%d/big' % web.port, 600)
        took = time.monotonic() - start
        got = m.sha256('/tmp/big')
        print('# 16 MiB in %.1f s (%.2f MB/s)' % (took, BIG / took / 1e6),
              flush=True)
        if got != big_sha:
            raise TestFailure('sha256 %s, the host served %s'
                              % (got, big_sha))

    def hostfwd():
        m.run('mkdir -p /tmp/www && head -c %d /tmp/big >/tmp/www/f'
              % FWD_SIZE)
        m.run('httpd -p %d -h /tmp/www' % FWD_GUEST_PORT)
        want = open(os.path.join(web.dir, 'big'), 'rb').read(FWD_SIZE)
        import urllib.request
        with urllib.request.urlopen('http://127.0.0.1:%d/f' % host_port,
                                    timeout=harness.scaled(300)) as resp:
            data = resp.read()
        if data != want:
            raise TestFailure('host port %d gave %d bytes, not the '
                              'guest\'s %d' % (host_port, len(data),
                                               len(want)))

    for name, check in (('dhcp', dhcp), ('wget', wget),
                        ('hostfwd', hostfwd)):
        r.run('net_%s_%s' % (card, name), check, *m.vms())


def vde_checks(r, a, b, switch, capture):
    def addresses():
        for m, mac, n in ((a, MAC['a_vde'], 1), (b, MAC['b_vde'], 2)):
            m.run('ifconfig %s %s%d netmask 255.255.255.0 up'
                  % (iface(m, mac), VDE_NET, n))

    def ping():
        a.run('ping -c 3 -W 5 %s2' % VDE_NET, 60)
        b.run('ping -c 3 -W 5 %s1' % VDE_NET, 60)

    def nc_copy():
        # busybox nc ends when its stdin ends: the listener's stdin is a
        # pipe that stays open (and sends nothing) while it receives.
        b.run('{ sleep 300 | nc -l -p %d >/tmp/r & }' % NC_PORT)
        a.run('dd if=/dev/urandom of=/tmp/s bs=1k count=%d 2>/dev/null'
              % NC_KIB)
        a.run('nc -w 5 %s2 %d </tmp/s >/dev/null' % (VDE_NET, NC_PORT), 120)
        b.run('for i in $(seq 120); do pidof nc >/dev/null || break; '
              'sleep 1; done; killall sleep 2>/dev/null; true', 180)
        sent, got = a.sha256('/tmp/s'), b.sha256('/tmp/r')
        size = b.run('wc -c </tmp/r').strip()
        if sent != got:
            raise TestFailure('nc: sent %s, received %s (%s bytes)'
                              % (sent, got, size))

    def pcap():
        if not shutil.which('tshark'):
            raise Skip('tshark is not installed')
        out = subprocess.run(['tshark', '-r', capture, '-Y',
                              'icmp or tcp.port == %d' % NC_PORT, '-T',
                              'fields', '-e', 'ip.src', '-e', 'ip.dst'],
                             capture_output=True, text=True, timeout=120)
        if out.returncode != 0:
            raise TestFailure('tshark -r: %s' % out.stderr.strip())
        pairs = [tuple(l.split('\t')) for l in out.stdout.splitlines()]
        both = {(VDE_NET + '1', VDE_NET + '2'),
                (VDE_NET + '2', VDE_NET + '1')}
        if not both <= set(pairs) or len(pairs) < 12:
            raise TestFailure('capture shows %d ICMP/TCP frames %r, not '
                              'both ways' % (len(pairs), set(pairs)))
        print('# tshark: %d frames of ping and nc' % len(pairs), flush=True)

    def switch_killed():
        switch.kill()
        line = 'the switch went away: network cable unplugged'
        b.vm.wait_until(lambda: line in b.vm.stderr().decode(
            'utf-8', 'replace'), harness.scaled(30), 'the unplug line')
        if not b.vm.alive():
            raise TestFailure('twoostwo ended with the switch')
        out = b.run('echo still here')
        if 'still here' not in out:
            raise TestFailure('no shell after the switch went away')
        lines = [l for l in b.vm.stderr().decode().splitlines()
                 if 'vde' in l]
        if len(lines) != 1:
            raise TestFailure('%d lines about the switch: %r'
                              % (len(lines), lines))

    def unless_sanitized(check):
        # A sanitizer build refuses VDE (libvdeplug's RTLD_DEEPBIND) with
        # one line and runs with the cable unplugged: nothing to check.
        def run():
            for m in (a, b):
                if m.vm and b'not in a sanitizer build' in m.vm.stderr():
                    raise Skip('VDE is not available in a sanitizer build '
                               '(libvdeplug loads plugins with '
                               'RTLD_DEEPBIND)')
            check()
        return run

    for name, check in (('addresses', addresses), ('ping', ping),
                        ('nc_copy', nc_copy), ('pcap', pcap),
                        ('switch_killed', switch_killed)):
        r.run('net_vde_' + name, unless_sanitized(check),
              *(a.vms() + b.vms()))


def vde_missing():
    """A switch that is not there: one line, the machine still runs."""
    st, out, err = run_command(['run', '--net',
                                'ne2k-pci,vde=/nonexistent/sw',
                                '--display', 'none', '--serial', 'none',
                                '--timeout', '3'], timeout=30)
    lines = [l for l in err.decode().strip().splitlines()
             if 'timeout after' not in l]
    if st != 3:
        raise TestFailure('exit status %r, not 3 (ran to its timeout): %r'
                          % (st, lines))
    if len(lines) != 1 or '/nonexistent/sw' not in lines[0] or \
            'unplugged' not in lines[0]:
        raise TestFailure('stderr %r, not one line about the switch'
                          % lines)


def bad_options():
    for spec, word in (('ne2k-pci,irq=5', 'irq=5'),
                       ('ne2k-isa,irq=9', 'irq=9'),
                       ('ne2k-isa,io=0x3f8', 'io=0x3f8'),
                       ('ne2k-pci,mac=01:00:00:00:00:01', 'mac='),
                       ('ne2k-pci,vde=/x,hostfwd=tcp:1:2', 'hostfwd'),
                       ('ne2k-pci,hostfwd=tcp:99999:22', 'hostfwd'),
                       ('e1000,nat', 'e1000')):
        st, out, err = run_command(['run', '--net', spec], timeout=10)
        text = err.decode().strip()
        if st != 2 or len(text.splitlines()) != 1 or word not in text:
            raise TestFailure('--net %s: status %r, %r' % (spec, st, text))


class Switch:
    def __init__(self, path):
        self.path = path
        self.pidfile = path + '.pid'
        subprocess.run(['vde_switch', '-s', path, '-d', '-p',
                        self.pidfile], check=True, timeout=10)
        # The daemon creates its pid file, then writes it: wait for the
        # number, not just the file.
        self.pid = None
        for _ in range(200):
            try:
                self.pid = int(open(self.pidfile).read())
                break
            except (OSError, ValueError):
                time.sleep(0.05)
        if self.pid is None:
            raise TestFailure('vde_switch wrote no pid to %s' % self.pidfile)

    def kill(self):
        if self.pid:
            try:
                os.kill(self.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            self.pid = None


def ab_tests(r, tmp):
    web = HttpServer(tmp)
    web.dir = tmp
    big_sha = random_file(os.path.join(tmp, 'big'), BIG)
    if not shutil.which('vde_switch'):
        raise Skip('vde_switch not installed (vde2)')
    switch = Switch(os.path.join(tmp, 'sw'))
    capture = os.path.join(tmp, 'vde.pcap')
    pa, pb = free_port(), free_port()
    a = NetLinux('--net', 'ne2k-pci,nat,mac=%s,hostfwd=tcp:%d:%d'
                 % (MAC['a_nat'], pa, FWD_GUEST_PORT),
                 '--net', 'ne2k-isa,vde=%s,mac=%s' % (switch.path,
                                                       MAC['a_vde']))
    b = NetLinux('--net', 'ne2k-isa,nat,mac=%s,hostfwd=tcp:%d:%d'
                 % (MAC['b_nat'], pb, FWD_GUEST_PORT),
                 '--net', 'ne2k-pci,vde=%s,mac=%s,capture=%s'
                 % (switch.path, MAC['b_vde'], capture))
    try:
        # Both boot at once.
        a.spawn()
        b.spawn()
        slirp_checks(r, a, 'pci', MAC['a_nat'], pa, web, big_sha)
        slirp_checks(r, b, 'isa', MAC['b_nat'], pb, web, big_sha)
        vde_checks(r, a, b, switch, capture)
    finally:
        switch.kill()
        a.close()
        b.close()
        web.close()


def tests(r):
    tmp = tempfile.mkdtemp(prefix='twoostwo-net-')
    try:
        r.run('net_bad_options', bad_options)
        r.run('net_vde_missing', vde_missing)
        try:
            ab_tests(r, tmp)
        except Skip as e:
            print('skip net_vde: %s' % e, flush=True)
    finally:
        if not KEEP:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == '__main__':
    harness.main(tests)
