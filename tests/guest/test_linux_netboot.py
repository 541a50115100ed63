#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Network boot and bridging of the default Linux guest, in one boot: no
disk, --boot net, an ne2k-pci card on nat whose iPXE ROM (Debian's
ipxe-qemu) loads an iPXE script, the kernel and the initramfs of linux.iso
from slirp's TFTP server, plus a second ne2k-pci on a TAP that twoostwo
creates on a bridge inside a network namespace made by this test (only
that namespace's addresses are used). Without root or /dev/net/tun the
bridge check is skipped with the reason; the boot still runs.
"""

import os
import subprocess
import sys
import shutil
import tempfile

import harness
from harness import KEEP, Skip, TestFailure, guest
from netlib import NetLinux
from test_linux_net import MAC, iface

NS = 'twoostwo-net-test'
NS_NET = '192.168.78.'


def netns_setup():
    """A bridge with an address inside a new network namespace."""
    if os.geteuid() != 0:
        raise Skip('needs root (network namespaces, TAP)')
    if not os.path.exists('/dev/net/tun'):
        raise Skip('no /dev/net/tun')
    if not shutil.which('ip'):
        raise Skip('no ip command (iproute2)')
    subprocess.run(['ip', 'netns', 'del', NS], capture_output=True)
    for cmd in (['ip', 'netns', 'add', NS],
                ['ip', '-n', NS, 'link', 'set', 'lo', 'up'],
                ['ip', '-n', NS, 'link', 'add', 'br0', 'type', 'bridge'],
                ['ip', '-n', NS, 'addr', 'add', NS_NET + '1/24', 'dev',
                 'br0'],
                ['ip', '-n', NS, 'link', 'set', 'br0', 'up']):
        p = subprocess.run(cmd, capture_output=True, text=True)
        if p.returncode:
            raise Skip('%s: %s' % (' '.join(cmd), p.stderr.strip()))


def c_tests(r, tmp):
    tftp = os.path.join(tmp, 'tftp')
    os.mkdir(tftp)
    iso = guest('linux.iso')
    for src, dst in (('/boot/vmlinuz', 'vmlinuz'),
                     ('/boot/initrd.gz', 'initrd.gz')):
        with open(os.path.join(tftp, dst), 'wb') as f:
            f.write(harness.iso_file(iso, src))
    with open(os.path.join(tftp, 'boot.ipxe'), 'w') as f:
        f.write('#!ipxe\n'
                'kernel vmlinuz initrd=initrd.gz console=tty0 '
                'console=ttyS0,115200 loglevel=4\n'
                'initrd initrd.gz\n'
                'boot\n')
    bridged = None
    why_not = None
    try:
        netns_setup()
        bridged = ('--net', 'ne2k-pci,bridge=br0,rom=none,mac=%s'
                   % MAC['c_br'])
    except Skip as e:
        why_not = str(e)
    args = ('--memory', '256M', '--net',
            'ne2k-pci,nat,tftp=%s,bootfile=boot.ipxe,mac=%s'
            % (tftp, MAC['c_nat'])) + (bridged or ())
    wrapper = None
    if bridged:
        wrapper = os.path.join(tmp, 'in-netns.sh')
        with open(wrapper, 'w') as f:
            f.write('#!/bin/sh\nexec ip netns exec %s %s "$@"\n'
                    % (NS, harness.TWOOSTWO))
        os.chmod(wrapper, 0o755)
    saved = harness.TWOOSTWO
    if wrapper:
        harness.TWOOSTWO = wrapper
    c = NetLinux(*args, boot=('--boot', 'net'))
    try:
        def netboot():
            c.start()
            # The command line is the iPXE script's, not ISOLINUX's.
            out = c.run('cat /proc/cmdline')
            if 'initrd=initrd.gz' not in out:
                raise TestFailure('booted with %r, not the iPXE script\'s '
                                  'command line' % out.strip())

        r.run('net_boot_pxe', netboot, *c.vms())
        harness.TWOOSTWO = saved

        def bridge():
            if not bridged:
                raise Skip(why_not)
            dev = iface(c, MAC['c_br'])
            c.run('killall udhcpc 2>/dev/null; ifconfig %s %s2 netmask '
                  '255.255.255.0 up' % (dev, NS_NET))
            c.run('ping -c 3 -W 5 %s1' % NS_NET, 60)
            # The namespace to the guest: a TCP fetch from the guest's
            # httpd (the host may have no ping).
            c.run('mkdir -p /tmp/br && echo hello-over-the-bridge '
                  '>/tmp/br/f && httpd -p 8081 -h /tmp/br')
            fetch = ('import urllib.request; print(urllib.request.urlopen('
                     '"http://%s2:8081/f", timeout=60).read().decode())'
                     % NS_NET)
            p = subprocess.run(['ip', 'netns', 'exec', NS, sys.executable,
                                '-c', fetch], capture_output=True,
                               text=True, timeout=harness.scaled(120))
            if 'hello-over-the-bridge' not in p.stdout:
                raise TestFailure('namespace to guest: %s %s'
                                  % (p.stdout.strip(), p.stderr.strip()))

        r.run('net_bridge', bridge, *c.vms())
    finally:
        harness.TWOOSTWO = saved
        c.close()
        if bridged:
            subprocess.run(['ip', 'netns', 'del', NS], capture_output=True)


def tests(r):
    tmp = tempfile.mkdtemp(prefix='twoostwo-netboot-')
    try:
        c_tests(r, tmp)
    finally:
        if not KEEP:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == '__main__':
    harness.main(tests)
