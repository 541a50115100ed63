# SPDX-License-Identifier: MIT
"""Helpers of the network guest tests and bench/net.py: the Linux guest
with network cards, a host HTTP server on loopback, free ports."""

import hashlib
import http.server
import os
import re
import socket
import threading
import time

import harness
from harness import SerialShell, TestFailure, Vm, guest

MARKER = 'TWOOSTWO-LINUX-READY'
PROMPT = 'twoostwo:/# '
BOOT_S = 480
COMMAND_S = 30


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def random_file(path, size):
    """A file of size random bytes; its sha256."""
    data = os.urandom(size)
    with open(path, 'wb') as f:
        f.write(data)
    return hashlib.sha256(data).hexdigest()


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


class HttpServer:
    """Serves directory on 127.0.0.1 (a free port), on a thread; also
    takes PUT/POST uploads, which it counts and throws away."""

    def __init__(self, directory):
        self.port = free_port()
        self.received = 0
        server = self

        class Handler(_Quiet):
            def __init__(self, *a, **kw):
                super().__init__(*a, directory=directory, **kw)

            def do_POST(self):
                n = int(self.headers.get('Content-Length', 0))
                left = n
                while left > 0:
                    chunk = self.rfile.read(min(left, 65536))
                    if not chunk:
                        break
                    left -= len(chunk)
                server.received += n - left
                self.send_response(200)
                self.send_header('Content-Length', '3')
                self.end_headers()
                self.wfile.write(b'ok\n')

        self.httpd = http.server.ThreadingHTTPServer(
            ('127.0.0.1', self.port), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever,
                                       daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class NetLinux:
    """linux.iso with the given twoostwo options, booted by the first
    check that needs its shell; later checks reuse the boot."""

    def __init__(self, *args, boot=('--cdrom', None, '--boot', 'cd')):
        boot = tuple(guest('linux.iso') if a is None else a for a in boot)
        self.args = boot + tuple(args)
        self.vm = None
        self.shell = None
        self.ready = False
        self.waited = False

    def vms(self):
        return [self.vm] if self.vm else []

    def spawn(self):
        """Start the machine without waiting for it (boots side by
        side)."""
        if not self.vm:
            self.started_at = time.monotonic()
            self.vm = Vm(*self.args, serial='stdio')
            self.shell = SerialShell(self.vm, PROMPT)

    def start(self):
        if self.ready:
            return self.shell
        if self.vm and self.waited:
            raise TestFailure('no shell: the guest did not boot to its '
                              'prompt')
        self.spawn()
        self.waited = True
        self.shell.expect_text(MARKER, harness.scaled(BOOT_S))
        print('# %s after %.1f s' % (MARKER,
                                     time.monotonic() - self.started_at),
              flush=True)
        self.shell.expect_text(PROMPT, harness.scaled(COMMAND_S))
        self.ready = True
        return self.shell

    def run(self, command, timeout=COMMAND_S):
        """The output of a command that must succeed."""
        out, status = self.start().run(command, harness.scaled(timeout))
        if status != 0:
            raise TestFailure('%r: exit status %d: %s'
                              % (command, status, out.strip()))
        return out

    def sha256(self, path):
        out = self.run('sha256sum %s' % path, 120)
        m = re.search(r'^([0-9a-f]{64}) ', out, re.M)
        if not m:
            raise TestFailure('no digest in %r' % out)
        return m.group(1)

    def dhcp(self, dev='eth0'):
        """A fresh DHCP lease (the one /init asked for is dropped first);
        the address."""
        self.run('killall udhcpc 2>/dev/null; true')
        out = self.run('udhcpc -i %s -s /etc/udhcpc.script -n -q -t 5 '
                       '-T 2' % dev, 60)
        m = re.search(r'bound to (\d+\.\d+\.\d+\.\d+)', out)
        if not m:
            raise TestFailure('no lease: %r' % out.strip())
        return m.group(1)

    def close(self):
        if self.vm:
            self.vm.close()
