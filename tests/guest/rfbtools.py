# SPDX-License-Identifier: MIT
"""Helpers for the display tests: PNG and PPM reading (stdlib only), free
TCP ports, and a minimal Chrome DevTools Protocol client (a WebSocket
client over http.client's socket) to drive headless Chromium."""

import base64
import json
import os
import socket
import struct
import subprocess
import tempfile
import time
import zlib


def read_png(data):
    """(width, height, rows of (r, g, b) bytes) of an 8-bit RGB or RGBA,
    non-interlaced PNG."""
    if data[:8] != b'\x89PNG\r\n\x1a\n':
        raise ValueError('not a PNG')
    pos, idat, ihdr = 8, b'', None
    while pos < len(data):
        length, kind = struct.unpack('>I4s', data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b'IHDR':
            ihdr = struct.unpack('>IIBBBBB', body)
        elif kind == b'IDAT':
            idat += body
    w, h, depth, ctype, _, _, interlace = ihdr
    if depth != 8 or ctype not in (2, 6) or interlace:
        raise ValueError('unsupported PNG %r' % (ihdr,))
    bpp = 3 if ctype == 2 else 4
    raw = zlib.decompress(idat)
    stride = w * bpp
    rows, prev = [], bytearray(stride)
    for y in range(h):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 0xff
            elif f == 2:
                line[i] = (line[i] + b) & 0xff
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 0xff
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else b if pb <= pc else c
                line[i] = (line[i] + pred) & 0xff
        rows.append(bytes(line) if bpp == 3 else
                    bytes(v for j, v in enumerate(line) if j % 4 != 3))
        prev = line
    return w, h, rows


def read_ppm(data):
    """(width, height, rows of RGB bytes) of a binary PPM (P6, maxval 255)."""
    parts = data.split(b'\n', 3)
    if parts[0] != b'P6' or parts[2] != b'255':
        raise ValueError('not a P6 PPM')
    w, h = map(int, parts[1].split())
    pix = parts[3]
    return w, h, [pix[y * w * 3:(y + 1) * w * 3] for y in range(h)]


def same_fraction(a, b):
    """Share of pixels that are equal in two (w, h, rows) images of the
    same size, or 0.0 when the sizes differ."""
    if a[:2] != b[:2]:
        return 0.0
    w, h = a[:2]
    same = 0
    for ra, rb in zip(a[2], b[2]):
        for x in range(0, w * 3, 3):
            if ra[x:x + 3] == rb[x:x + 3]:
                same += 1
    return same / float(w * h)


def colours(img):
    return len({r[x:x + 3] for r in img[2] for x in range(0, len(r), 3)})


def free_port_pair(offset=100):
    """A TCP port p on 127.0.0.1 such that p and p - offset are free."""
    for _ in range(50):
        s = socket.socket()
        s.bind(('127.0.0.1', 0))
        p = s.getsockname()[1]
        s.close()
        if p - offset < 1025:
            continue
        t = socket.socket()
        try:
            t.bind(('127.0.0.1', p - offset))
            return p
        except OSError:
            continue
        finally:
            t.close()
    raise RuntimeError('no free port pair')


class WebSocket:
    """Just enough of RFC 6455 for the DevTools protocol: text frames,
    client masking, no extensions."""

    def __init__(self, url, timeout=30):
        assert url.startswith('ws://')
        hostport, path = url[5:].split('/', 1)
        host, port = hostport.rsplit(':', 1)
        self.sock = socket.create_connection((host, int(port)), timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(('GET /%s HTTP/1.1\r\nHost: %s\r\n'
                           'Upgrade: websocket\r\nConnection: Upgrade\r\n'
                           'Sec-WebSocket-Key: %s\r\n'
                           'Sec-WebSocket-Version: 13\r\n\r\n'
                           % (path, hostport, key)).encode())
        head = b''
        while b'\r\n\r\n' not in head:
            chunk = self.sock.recv(1)
            if not chunk:
                raise ConnectionError('websocket handshake')
            head += chunk
        if b' 101 ' not in head.split(b'\r\n')[0]:
            raise ConnectionError(head.decode(errors='replace'))
        self.buf = b''

    def send(self, text):
        data = text.encode()
        mask = os.urandom(4)
        n = len(data)
        if n < 126:
            hdr = struct.pack('>BB', 0x81, 0x80 | n)
        elif n < 65536:
            hdr = struct.pack('>BBH', 0x81, 0x80 | 126, n)
        else:
            hdr = struct.pack('>BBQ', 0x81, 0x80 | 127, n)
        body = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
        self.sock.sendall(hdr + mask + body)

    def _read(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(1 << 16)
            if not chunk:
                raise ConnectionError('websocket closed')
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def recv(self):
        message = b''
        while True:
            b0, b1 = self._read(2)
            n = b1 & 0x7f
            if n == 126:
                n = struct.unpack('>H', self._read(2))[0]
            elif n == 127:
                n = struct.unpack('>Q', self._read(8))[0]
            payload = self._read(n)
            message += payload
            if b0 & 0x80:
                return message.decode()


class Chromium:
    """Headless Chromium with the DevTools protocol on one page."""

    def __init__(self, url, width=900, height=600):
        self.profile = tempfile.mkdtemp(prefix='twoostwo-chromium-')
        self.proc = subprocess.Popen(
            ['chromium', '--headless', '--no-sandbox', '--disable-gpu',
             '--disable-quic', '--no-first-run',
             '--disable-background-networking', '--disable-component-update',
             '--disable-sync', '--user-data-dir=' + self.profile,
             '--remote-debugging-port=0',
             '--window-size=%d,%d' % (width, height), url],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True)
        port = self._devtools_port()
        page = None
        for _ in range(100):
            page = self._page(port)
            if page:
                break
            time.sleep(0.1)
        if not page:
            raise RuntimeError('chromium: no page target')
        self.ws = WebSocket(page['webSocketDebuggerUrl'])
        self.next_id = 0

    def _devtools_port(self):
        path = os.path.join(self.profile, 'DevToolsActivePort')
        for _ in range(300):
            if self.proc.poll() is not None:
                raise RuntimeError('chromium exited with %d'
                                   % self.proc.returncode)
            try:
                with open(path) as f:
                    return int(f.readline())
            except (OSError, ValueError):
                time.sleep(0.1)
        raise RuntimeError('chromium: no DevTools port')

    @staticmethod
    def _page(port):
        import http.client
        c = http.client.HTTPConnection('127.0.0.1', port, timeout=5)
        c.request('GET', '/json/list')
        targets = json.loads(c.getresponse().read())
        c.close()
        for t in targets:
            if t.get('type') == 'page' and 'webSocketDebuggerUrl' in t:
                return t
        return None

    def call(self, method, **params):
        self.next_id += 1
        mid = self.next_id
        self.ws.send(json.dumps({'id': mid, 'method': method,
                                 'params': params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get('id') == mid:
                if 'error' in msg:
                    raise RuntimeError('%s: %s' % (method, msg['error']))
                return msg.get('result', {})

    def evaluate(self, expr):
        r = self.call('Runtime.evaluate', expression=expr,
                      returnByValue=True, awaitPromise=True)
        return r.get('result', {}).get('value')

    def type_text(self, text):
        """Unshifted characters and Enter, as key presses on the page."""
        for ch in text:
            if ch == '\n':
                key = dict(key='Enter', code='Enter',
                           windowsVirtualKeyCode=13, text='\r')
            else:
                code = ('Key' + ch.upper() if ch.isalpha() else
                        'Digit' + ch if ch.isdigit() else
                        {' ': 'Space', '/': 'Slash', '.': 'Period',
                         '-': 'Minus'}[ch])
                vk = (ord(ch.upper()) if ch.isalnum() else
                      {' ': 32, '/': 191, '.': 190, '-': 189}[ch])
                key = dict(key=ch, code=code, windowsVirtualKeyCode=vk,
                           text=ch)
            self.call('Input.dispatchKeyEvent', type='keyDown', **key)
            key.pop('text', None)
            self.call('Input.dispatchKeyEvent', type='keyUp', **key)
            time.sleep(0.05)

    def close(self):
        try:
            self.proc.terminate()
            self.proc.wait(10)
        except Exception:
            self.proc.kill()
        subprocess.run(['rm', '-rf', self.profile])
