# SPDX-License-Identifier: MIT
"""What vga_modes.asm draws, computed here without the emulator, and a
PNG reader (zlib only) for the screen dumps that must match it.

Colours: 6-bit DAC values become 8-bit as (v << 2) | (v >> 4), the
scaling twoostwo's VGA applies (it is what the RAMDAC's 6-bit steps look
like spread over 0..255).
"""

import os
import shutil
import struct
import subprocess
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
ASM = os.path.join(HERE, 'vga_modes.asm')
DISK_SIZE = 1 << 20


def assemble(out, bench=False):
    """vga_modes.asm as a 1 MiB disk image; None when nasm is missing."""
    nasm = shutil.which('nasm')
    if not nasm:
        return None
    args = [nasm, '-f', 'bin', '-o', out, ASM]
    if bench:
        args.insert(1, '-DBENCH')
    subprocess.run(args, check=True)
    with open(out, 'r+b') as f:
        f.truncate(DISK_SIZE)
    return out


def read_png(path):
    """(width, height, rows of (r, g, b) tuples) of an 8-bit RGB PNG."""
    with open(path, 'rb') as f:
        data = f.read()
    if data[:8] != b'\x89PNG\r\n\x1a\n':
        raise ValueError('%s: not a PNG file' % path)
    pos, idat, width, height = 8, b'', 0, 0
    while pos < len(data):
        length, kind = struct.unpack('>I4s', data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b'IHDR':
            width, height, depth, ctype = struct.unpack('>IIBB', body[:10])
            if depth != 8 or ctype != 2 or body[12] != 0:
                raise ValueError('%s: not 8-bit RGB, not interlaced'
                                 % path)
        elif kind == b'IDAT':
            idat += body
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * 3
    rows, prev = [], bytearray(stride)
    for y in range(height):
        base = y * (stride + 1)
        ftype, line = raw[base], bytearray(raw[base + 1:base + 1 + stride])
        _unfilter(ftype, line, prev)
        rows.append([tuple(line[3 * x:3 * x + 3]) for x in range(width)])
        prev = line
    return width, height, rows


def _paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def _unfilter(ftype, line, prev):
    for i in range(len(line)):
        a = line[i - 3] if i >= 3 else 0
        b = prev[i]
        c = prev[i - 3] if i >= 3 else 0
        if ftype == 1:
            line[i] = (line[i] + a) & 255
        elif ftype == 2:
            line[i] = (line[i] + b) & 255
        elif ftype == 3:
            line[i] = (line[i] + ((a + b) >> 1)) & 255
        elif ftype == 4:
            line[i] = (line[i] + _paeth(a, b, c)) & 255
        elif ftype != 0:
            raise ValueError('PNG filter type %d' % ftype)


def dac8(v):
    return (v << 2) | (v >> 4)


def _pal16():
    return [(dac8(4 * i), dac8(63 - 4 * i), dac8(7 * i & 63))
            for i in range(16)]


def text40_expected():
    """40x25 cells of 9x16 pixels; the ninth column repeats the eighth
    for the line-drawing characters 0xC0-0xDF (attribute mode bit 2, set
    in the VGA BIOS's text modes) and is background otherwise."""
    pal = _pal16()
    rows = []
    for y in range(400):
        row, r = divmod(y, 16)
        line = []
        for x in range(360):
            col, px = divmod(x, 9)
            ch = (40 * row + col) & 255
            glyph = (ch + 37 * r) & 255
            if px < 8:
                bit = (glyph >> (7 - px)) & 1
            else:
                bit = glyph & 1 if 0xc0 <= ch <= 0xdf else 0
            fg, bg = col & 15, (row + col) % 7 + 1
            line.append(pal[fg if bit else bg])
        rows.append(line)
    return 360, 400, rows


def mode12_expected():
    pal = _pal16()

    def index(x, y):
        if y >= 440:
            y -= 440  # write mode 1 copied rows 0-39 here
        return 15 if x == y else ((x >> 3) + y) & 15

    return 640, 480, [[pal[index(x, y)] for x in range(640)]
                      for y in range(480)]


def _pal256():
    return [(dac8(i & 63), dac8((i >> 2) & 63), dac8(3 * i & 63))
            for i in range(256)]


def mode13_expected():
    pal = _pal256()
    return 320, 200, [[pal[(x + 2 * y) & 255] for x in range(320)]
                      for y in range(200)]


def modex_expected():
    pal = _pal256()
    return 320, 240, [[pal[(x ^ y) & 255] for x in range(320)]
                      for y in range(240)]


def vbe32_expected():
    return 1024, 768, [[((3 * x) & 255, y & 255, (x + y) & 255)
                        for x in range(1024)] for y in range(768)]


def vbe4_expected():
    pal = _pal16()

    def index(x, y):
        return 15 if x == y else ((x >> 3) + (y >> 2)) & 15

    return 1024, 768, [[pal[index(x, y)] for x in range(1024)]
                       for y in range(768)]


def compare(got, want):
    """None when equal, else what differs first."""
    gw, gh, grows = got
    ww, wh, wrows = want
    if (gw, gh) != (ww, wh):
        return 'size %dx%d, expected %dx%d' % (gw, gh, ww, wh)
    bad = 0
    first = None
    for y in range(wh):
        if grows[y] != wrows[y]:
            for x in range(ww):
                if grows[y][x] != wrows[y][x]:
                    bad += 1
                    if first is None:
                        first = (x, y, grows[y][x], wrows[y][x])
    if first is None:
        return None
    return '%d pixels differ; first at (%d,%d): %s, expected %s' % (
        bad, *first)
