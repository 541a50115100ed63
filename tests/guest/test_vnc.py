#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The remote display of a running Linux guest: `--vnc`, its web console,
the PS/2 mouse and keyboard through them. One boot of linux.iso serves
every check:

- a VNC client on libvncclient (build/tests/vncclient) sees the guest's
  screen, the same pixels as `twoostwo control SOCK screendump`;
- keys it types reach the shell on the guest's console (tty1), and
  pointer motion reaches /dev/input/mice through psmouse;
- two clients at once both get the screen;
- garbage sent to the VNC and web ports leaves the VM running and a real
  client still connects;
- headless Chromium opens the printed web console (noVNC over
  WebSocket), shows the guest's screen, and a key typed in the page
  reaches the guest.
"""

import os
import re
import shutil
import socket
import subprocess
import tempfile
import time

import harness
import rfbtools
from harness import REPO, TestFailure, Skip
from test_linux import Linux

VNCCLIENT = os.path.join(os.path.dirname(harness.TWOOSTWO), 'tests',
                         'vncclient')
CLIENT_S = 30
SAME_PIXELS = 0.995  # the text cursor may blink between two pictures


def vncclient(port, *actions, timeout=CLIENT_S):
    if not os.path.exists(VNCCLIENT):
        raise Skip('%s is not built' % VNCCLIENT)
    p = subprocess.run([VNCCLIENT, '127.0.0.1:%d' % port, *actions],
                       capture_output=True, text=True,
                       timeout=harness.scaled(timeout))
    if p.returncode != 0:
        raise TestFailure('vncclient %s: status %d: %s'
                          % (' '.join(actions), p.returncode,
                             (p.stdout + p.stderr).strip()))
    return p.stdout


def screendump(control, path):
    status, out, err = harness.run_command(
        ['control', control, 'screendump', path], timeout=20)
    if status != 0:
        raise TestFailure('screendump: %s' % (out + err).decode().strip())
    with open(path, 'rb') as f:
        return rfbtools.read_png(f.read())


def tests(r):
    tmp = tempfile.mkdtemp(prefix='twoostwo-vnc-')
    port = rfbtools.free_port_pair()
    web_port = port - 100
    control = os.path.join(tmp, 'control.sock')
    m = Linux('--vnc', '127.0.0.1:%d' % port, '--control', control)

    def vms():
        return m.vms()

    def printed_addresses():
        m.start()
        err = m.vm.stderr().decode(errors='replace')
        want = 'web console: http://127.0.0.1:%d/vnc_lite.html?port=%d' % (
            web_port, port)
        if want not in err:
            raise TestFailure('stderr does not say %r: %s' % (want, err))

    def screen_matches_screendump():
        m.start()
        snap = os.path.join(tmp, 'vnc.ppm')
        out = vncclient(port, '--snapshot', snap)
        dump = screendump(control, os.path.join(tmp, 'dump.png'))
        with open(snap, 'rb') as f:
            seen = rfbtools.read_ppm(f.read())
        if 'size %d %d' % dump[:2] not in out:
            raise TestFailure('client saw %r, screendump is %dx%d'
                              % (out, dump[0], dump[1]))
        same = rfbtools.same_fraction(seen, dump)
        print('# vnc picture %dx%d, %.2f%% of pixels as screendump'
              % (seen[0], seen[1], same * 100), flush=True)
        if same < SAME_PIXELS or rfbtools.colours(seen) < 2:
            raise TestFailure('the VNC picture differs from the '
                              'screendump (%.2f%% equal)' % (same * 100))

    def keys_reach_guest():
        m.start()
        # Typed on the guest's screen (tty1), shifted characters too.
        vncclient(port, '--type', 'echo Vnc-$((6*7)) >/tmp/vnc.txt\n',
                  '--hold', '1')
        out = ''
        for _ in range(20):
            out = m.run('cat /tmp/vnc.txt 2>/dev/null || true')
            if out.strip():
                break
            time.sleep(0.5)
        if out.strip() != 'Vnc-42':
            raise TestFailure('the guest got %r, not Vnc-42' % out)

    def mouse_reaches_guest():
        m.start()
        dmesg = m.run('dmesg | grep -i "input:.*mouse" || true')
        print('# %s' % dmesg.strip().replace('\n', ' | '), flush=True)
        if 'PS/2' not in dmesg:
            raise TestFailure('no PS/2 mouse in dmesg: %r' % dmesg)
        m.run('(od -An -tx1 -N6 /dev/input/mice >/tmp/mice.txt 2>&1 &)')
        time.sleep(0.5)
        vncclient(port, '--pointer', '100,100,0', '--pointer', '300,200,0',
                  '--pointer', '310,210,1', '--pointer', '320,220,0',
                  '--hold', '1')
        out = ''
        for _ in range(20):
            out = m.run('cat /tmp/mice.txt')
            if len(out.split()) >= 6:
                break
            time.sleep(0.5)
        got = out.split()
        print('# /dev/input/mice: %s' % ' '.join(got), flush=True)
        if len(got) < 6 or not all(re.fullmatch('[0-9a-f]{2}', b)
                                   for b in got):
            raise TestFailure('no mouse packets in the guest: %r' % out)
        if not int(got[0], 16) & 0x08:
            raise TestFailure('not a PS/2 packet: %r' % out)

    def two_clients_at_once():
        m.start()
        procs = [subprocess.Popen([VNCCLIENT, '127.0.0.1:%d' % port,
                                   '--hold', '2'],
                                  stdout=subprocess.PIPE, text=True)
                 for _ in range(2)]
        for p in procs:
            out, _ = p.communicate(timeout=harness.scaled(CLIENT_S))
            if p.returncode != 0 or 'size 720 400' not in out:
                raise TestFailure('a client of two: %d %r'
                                  % (p.returncode, out))

    def garbage_does_not_hurt():
        m.start()
        junk = bytes(range(256)) * 8
        for target in (port, web_port):
            for payload in (junk, b'RFB 003.008\n\x01\x01' + junk,
                            b'GET /' + b'A' * 5000 + b' HTTP/1.1\r\n\r\n',
                            b'GET /../../../../etc/passwd HTTP/1.0\r\n\r\n'):
                s = socket.create_connection(('127.0.0.1', target), 5)
                try:
                    s.sendall(payload)
                    s.settimeout(1)
                    reply = b''
                    try:
                        reply = s.recv(4096)
                    except OSError:
                        pass
                    if b'root:' in reply:
                        raise TestFailure('web port served /etc/passwd')
                except OSError:
                    pass  # the server may hang up on us: fine
                finally:
                    s.close()
        if not m.vm.alive():
            raise TestFailure('twoostwo died')
        if m.run('echo alive').strip() != 'alive':
            raise TestFailure('the guest stopped answering')
        vncclient(port, '--hold', '0.5')

    def browser_console():
        m.start()
        if not shutil.which('chromium'):
            raise Skip('chromium is not installed')
        if not os.path.isdir('/usr/share/novnc'):
            raise Skip('novnc is not installed')
        url = 'http://127.0.0.1:%d/vnc_lite.html?port=%d' % (web_port, port)
        b = rfbtools.Chromium(url)
        try:
            status = ''
            for _ in range(int(harness.scaled(60))):
                status = b.evaluate(
                    "(document.getElementById('status')||{}).textContent"
                    " || ''") or ''
                if 'Connected' in status:
                    break
                time.sleep(1)
            if 'Connected' not in status:
                raise TestFailure('noVNC says %r' % status)
            time.sleep(1)
            png = b.evaluate("document.querySelector('#screen canvas')"
                             ".toDataURL('image/png')")
            if not png or not png.startswith('data:image/png;base64,'):
                raise TestFailure('no canvas in the page')
            import base64
            page = rfbtools.read_png(base64.b64decode(png.split(',', 1)[1]))
            dump = screendump(control, os.path.join(tmp, 'dump2.png'))
            same = rfbtools.same_fraction(page, dump)
            print('# browser canvas %dx%d, %.2f%% of pixels as screendump'
                  % (page[0], page[1], same * 100), flush=True)
            if same < SAME_PIXELS:
                raise TestFailure('the page shows something else (%.2f%% '
                                  'equal to screendump)' % (same * 100))
            # Focus the screen, then type a command on the guest's tty1.
            for kind in ('mousePressed', 'mouseReleased'):
                b.call('Input.dispatchMouseEvent', type=kind, x=300, y=200,
                       button='left', clickCount=1)
            b.type_text('touch /tmp/web-ok\n')
            out = ''
            for _ in range(20):
                out = m.run('ls /tmp/web-ok 2>/dev/null || true')
                if 'web-ok' in out:
                    break
                time.sleep(0.5)
            if 'web-ok' not in out:
                raise TestFailure('keys typed in the browser did not reach '
                                  'the guest')
        finally:
            b.close()

    try:
        r.run('vnc_printed_addresses', printed_addresses, *vms())
        r.run('vnc_screen_matches_screendump', screen_matches_screendump,
              *vms())
        r.run('vnc_keys_reach_guest', keys_reach_guest, *vms())
        r.run('vnc_mouse_reaches_guest', mouse_reaches_guest, *vms())
        r.run('vnc_two_clients_at_once', two_clients_at_once, *vms())
        r.run('vnc_garbage_does_not_hurt', garbage_does_not_hurt, *vms())
        r.run('vnc_browser_console', browser_console, *vms())
    finally:
        if m.vm:
            m.vm.close()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == '__main__':
    harness.main(tests)
