#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The remote display of a running Linux guest: `--vnc`, its web console,
the PS/2 mouse and keyboard through them, and Linux's bochs-drm. The
checks run in test_linux.py's boot of linux.iso (the machine gets
Display().args), after its read-only checks; `python3
tests/guest/linux_display.py` runs them alone in a boot of their own.

- a VNC client on libvncclient (build/tests/vncclient) sees the guest's
  screen, the same pixels as `twoostwo control SOCK screendump`;
- keys it types reach the shell on the guest's console (tty1), and
  pointer motion reaches /dev/input/mice through psmouse;
- two clients at once both get the screen;
- garbage sent to the VNC and web ports leaves the VM running and a real
  client still connects;
- headless Chromium opens the printed web console (noVNC over
  WebSocket), shows the guest's screen, and a key typed in the page
  reaches the guest;
- Linux's bochs-drm (loaded by the guest's /bin/load-drm) binds the
  1234:1111 VGA, fbcon draws the console in its 1024x768 graphics mode
  (exact pixels of a known line), and a KMS mode change (the guest's
  /bin/drmmode: an 800x600 dumb buffer with a known pattern) reaches
  screendump and the VNC client pixel for pixel, and back.

The first picture checks run in text mode; bochs-drm is then loaded and
the rest (keys, mouse, two clients, browser) run on the graphics console.
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
TEXT_SIZE = (720, 400)
FB_SIZE = (1024, 768)  # bochs-drm's preferred mode (the EDID's)
DRM_MODE = (800, 600)
GREY = b'\xaa\xaa\xaa'  # fbcon's default foreground (VT colour 7)
BLACK = b'\0\0\0'
CELL_W, CELL_H = 8, 16  # the kernel's VGA 8x16 font


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


def drm_pattern(width, height):
    """The picture guest/linux/drmmode.c draws, as screendump rows."""
    rows = []
    for y in range(height):
        row = bytearray()
        for x in range(width):
            blue = 0xc0 if ((x >> 3) ^ (y >> 3)) & 1 else 0x30
            row += bytes((x & 0xff, y & 0xff, blue))
        rows.append(bytes(row))
    return width, height, rows


def first_difference(seen, want):
    """'(x, y) is RGB, not RGB' for the first differing pixel, or None."""
    if seen[:2] != want[:2]:
        return 'size %dx%d, not %dx%d' % (seen[:2] + want[:2])
    for y, (a, b) in enumerate(zip(seen[2], want[2])):
        if a != b:
            x = next(i for i in range(0, len(a), 3)
                     if a[i:i + 3] != b[i:i + 3])
            return '(%d, %d) is %s, not %s' % (x // 3, y, a[x:x + 3].hex(),
                                               b[x:x + 3].hex())
    return None


CHECKS = ('vnc_printed_addresses', 'vnc_screen_matches_screendump',
          'drm_binds', 'drm_console_text',
          'drm_vnc_screen_matches_screendump', 'drm_mode_change',
          'vnc_keys_reach_guest', 'vnc_mouse_reaches_guest',
          'vnc_two_clients_at_once', 'vnc_garbage_does_not_hurt',
          'vnc_browser_console')


class Display:
    """What the machine needs for these checks: a VNC server and a
    control socket (screendump), in a folder of their own."""

    def __init__(self):
        self.tmp = tempfile.mkdtemp(prefix='twoostwo-vnc-')
        self.port = rfbtools.free_port_pair()
        self.web_port = self.port - 100
        self.control = os.path.join(self.tmp, 'control.sock')
        self.args = ('--vnc', '127.0.0.1:%d' % self.port, '--control',
                     self.control)

    def close(self):
        shutil.rmtree(self.tmp, ignore_errors=True)


def supported():
    """False for tests/guest/qemu-twoostwo (the harness self-check): it
    has no --vnc and no control socket."""
    status, out, err = harness.run_command(['run', '--help'], 30)
    return status == 0 and b'--vnc' in out + err


def skip_all(r, why):
    def skipped():
        raise Skip(why)
    for name in CHECKS:
        r.run(name, skipped)


def checks(r, m, d):
    """Every check, on the Linux machine m started with d.args."""
    tmp, port, web_port, control = d.tmp, d.port, d.web_port, d.control

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

    def drm_binds():
        m.start()
        m.run('load-drm', timeout=120)
        out = m.run('dmesg | grep -E "bochs|drm|fb0"')
        print('# ' + out.strip().replace('\n', '\n# '), flush=True)
        for want in ('[drm] Found bochs VGA', 'Initialized bochs-drm',
                     'bochs-drmdrmfb'):
            if want not in out:
                raise TestFailure('dmesg does not say %r' % want)
        fb = m.run('cat /proc/fb /sys/class/graphics/fb0/virtual_size '
                   '/sys/class/graphics/fb0/bits_per_pixel')
        if fb.split() != ['0', 'bochs-drmdrmfb', '%d,%d' % FB_SIZE, '32']:
            raise TestFailure('/proc/fb, fb0 size and depth: %r' % fb)
        if 'card0' not in m.run('ls /dev/dri'):
            raise TestFailure('no /dev/dri/card0')

    def drm_console_text():
        # Home, clear, then two full blocks (U+2588, a lit 8x16 cell in
        # the kernel's font) and "XY" on tty1, fbcon's console.
        m.run("printf '\\033[H\\033[J\\342\\226\\210\\342\\226\\210XY'"
              " >/dev/tty1")
        dump = None
        for _ in range(10):
            dump = screendump(control, os.path.join(tmp, 'fbcon.png'))
            if dump[2][0][:3] == GREY:
                break
            time.sleep(0.5)
        if dump[:2] != FB_SIZE:
            raise TestFailure('screendump is %dx%d, not the %dx%d graphics '
                              'mode' % (dump[:2] + FB_SIZE))
        w = FB_SIZE[0]
        for y in range(CELL_H):
            row = dump[2][y]
            if row[:2 * CELL_W * 3] != GREY * (2 * CELL_W):
                raise TestFailure('block cells, line %d: %s' % (
                    y, row[:2 * CELL_W * 3].hex()))
            if row[6 * CELL_W * 3:] != BLACK * (w - 6 * CELL_W):
                raise TestFailure('line %d is not black past "XY"' % y)
        glyphs = b''.join(dump[2][y][2 * CELL_W * 3:4 * CELL_W * 3]
                          for y in range(CELL_H))
        lit = sum(glyphs[i:i + 3] == GREY for i in range(0, len(glyphs), 3))
        if not 10 < lit < CELL_W * CELL_H:
            raise TestFailure('"XY" drew %d lit pixels' % lit)
        print('# fbcon %dx%d: the blocks and "XY" (%d lit pixels) drawn'
              % (dump[0], dump[1], lit), flush=True)

    def drm_mode_change():
        m.run('(drmmode %d %d 600 >/tmp/drm.txt 2>&1 & echo $! '
              '>/tmp/drm.pid)' % DRM_MODE)
        out = ''
        for _ in range(40):
            out = m.run('cat /tmp/drm.txt')
            if 'shown' in out or 'drmmode:' in out:
                break
            time.sleep(0.5)
        if 'shown' not in out:
            raise TestFailure('drmmode: %r' % out)
        want = drm_pattern(*DRM_MODE)
        dump = screendump(control, os.path.join(tmp, 'drm.png'))
        bad = first_difference(dump, want)
        if bad:
            raise TestFailure('screendump of the KMS mode: %s' % bad)
        snap = os.path.join(tmp, 'drm.ppm')
        vncclient(port, '--snapshot', snap)
        with open(snap, 'rb') as f:
            bad = first_difference(rfbtools.read_ppm(f.read()), want)
        if bad:
            raise TestFailure('VNC picture of the KMS mode: %s' % bad)
        print('# %dx%d dumb buffer: screendump and VNC equal to the pattern'
              % DRM_MODE, flush=True)
        # Ending the DRM master gives the screen back to fbcon.
        m.run('kill $(cat /tmp/drm.pid)')
        for _ in range(20):
            dump = screendump(control, os.path.join(tmp, 'back.png'))
            if dump[:2] == FB_SIZE:
                break
            time.sleep(0.5)
        if dump[:2] != FB_SIZE:
            raise TestFailure('after drmmode the screen is %dx%d' % dump[:2])

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
            if p.returncode != 0 or 'size %d %d' % FB_SIZE not in out:
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

    for name, check in zip(CHECKS, (
            printed_addresses, screen_matches_screendump, drm_binds,
            drm_console_text, screen_matches_screendump, drm_mode_change,
            keys_reach_guest, mouse_reaches_guest, two_clients_at_once,
            garbage_does_not_hurt, browser_console)):
        r.run(name, check, *vms())


def tests(r):
    """The checks alone, in a boot of their own."""
    d = Display()
    m = Linux(*d.args)
    try:
        checks(r, m, d)
    finally:
        if m.vm:
            m.vm.close()
        d.close()


if __name__ == '__main__':
    harness.main(tests)
