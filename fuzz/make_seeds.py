#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Hand-made fuzz_machine inputs (format: fuzz/fuzz_machine.c): the IDE,
ATAPI and fw_cfg DMA conversations real drivers have, which a port trace
alone cannot seed (it has no PRD tables or descriptors in RAM), and the
known-bug patterns of docs/SECURITY.md as reproducers.

usage: fuzz/make_seeds.py OUTDIR
"""
import os
import struct
import sys

SIZE = {1: 0, 2: 1, 4: 2}
BM = 0xC000


def out(port, val, size=1):
    return bytes([0 | SIZE[size] << 4]) + struct.pack('<HI', port, val)


def inp(port, size=1):
    return bytes([1 | SIZE[size] << 4]) + struct.pack('<H', port)


def dma(addr, data):
    assert addr % 16 == 0 and len(data) < 256
    return bytes([4]) + struct.pack('<HB', addr // 16, len(data)) + data


def time_us(us):
    return bytes([6]) + struct.pack('<H', us)


LOOP = bytes([7])
INTACK = bytes([5])


def pci_write(dev, fn, reg, val, size):
    return (out(0xCF8, 0x80000000 | dev << 11 | fn << 8 | (reg & ~3), 4) +
            out(0xCFC + (reg & 3), val, size))


def bm_setup():
    return pci_write(1, 1, 0x20, BM | 1, 4) + pci_write(1, 1, 4, 5, 2)


def taskfile(base, dev, count, lba):
    return (out(base + 6, dev | (lba >> 24 & 15)) + out(base + 2, count) +
            out(base + 3, lba & 255) + out(base + 4, lba >> 8 & 255) +
            out(base + 5, lba >> 16 & 255))


def prd(entries):
    return b''.join(struct.pack('<II', a, n) for a, n in entries)


def identify():
    s = out(0x1F6, 0xA0) + out(0x1F7, 0xEC)
    s += b''.join(inp(0x1F0, 2) for _ in range(256))
    s += out(0x176, 0xA0) + out(0x177, 0xA1)
    s += b''.join(inp(0x170, 2) for _ in range(256))
    return s


def pio_rw():
    s = taskfile(0x1F0, 0xE0, 1, 5) + out(0x1F7, 0x20)
    s += b''.join(inp(0x1F0, 2) for _ in range(256))
    s += taskfile(0x1F0, 0xE0, 1, 6) + out(0x1F7, 0x30)
    s += b''.join(out(0x1F0, i, 2) for i in range(256))
    s += out(0x1F7, 0xE7) + LOOP  # FLUSH CACHE
    s += taskfile(0x1F0, 0xF0, 1, 0) + out(0x1F7, 0x30)  # slave: RO
    s += b''.join(out(0x1F0, i, 2) for i in range(256))
    return s + inp(0x1F7) + inp(0x1F1)


def dma_rw(entries, count, cmd=0xC8, bmcmd=0x09, prd_at=0x1000):
    s = bm_setup() + dma(prd_at, prd(entries))
    s += taskfile(0x1F0, 0xE0, count, 0) + out(BM + 4, prd_at, 4)
    s += out(0x1F7, cmd) + out(BM, bmcmd) + LOOP
    return s + inp(BM + 2) + out(BM + 2, 6) + out(BM, 0) + INTACK


def atapi(cdb, dma_mode=False, reads=64):
    cdb = cdb + bytes(12 - len(cdb))
    s = out(0x176, 0xA0) + out(0x171, 1 if dma_mode else 0)
    s += out(0x174, 0xFE) + out(0x175, 0xFF) + out(0x177, 0xA0)
    s += b''.join(out(0x170, struct.unpack('<H', cdb[i:i + 2])[0], 2)
                  for i in range(0, 12, 2))
    if dma_mode:
        s += out(BM + 8 + 4, 0x1000, 4) + out(BM + 8, 0x09) + LOOP
        s += inp(BM + 10)
    s += b''.join(inp(0x170, 2) for _ in range(reads))
    return s + inp(0x177) + inp(0x172)


ATAPI_CDBS = [
    bytes([0x00]),  # TEST UNIT READY
    bytes([0x03, 0, 0, 0, 18]),  # REQUEST SENSE
    bytes([0x12, 0, 0, 0, 36]),  # INQUIRY
    bytes([0x25]),  # READ CAPACITY
    bytes([0x28, 0, 0, 0, 0, 16, 0, 0, 1]),  # READ(10) LBA 16
    bytes([0xA8, 0, 0, 0, 0, 16, 0, 0, 0, 1]),  # READ(12)
    bytes([0x43, 0, 0, 0, 0, 0, 0, 0x03, 0x24]),  # READ TOC
    bytes([0x46, 0, 0, 0, 0, 0, 0, 0, 0x20]),  # GET CONFIGURATION
    bytes([0x4A, 1, 0, 0, 0x10, 0, 0, 0, 8]),  # GET EVENT STATUS
    bytes([0x5A, 0, 0x2A, 0, 0, 0, 0, 0, 0x20]),  # MODE SENSE(10)
    bytes([0x51, 0, 0, 0, 0, 0, 0, 0, 0x20]),  # READ DISC INFORMATION
    bytes([0x1E, 0, 0, 0, 1]),  # PREVENT MEDIUM REMOVAL
    bytes([0x1B, 0, 0, 0, 2]),  # START STOP: eject
    bytes([0xBD, 0, 0, 0, 0, 0, 0, 0, 0, 8]),  # MECHANISM STATUS
    bytes([0xBE, 0, 0, 0, 0, 16, 0, 0, 1, 0x10]),  # READ CD
]


def seeds():
    yield 'ide-identify', identify()
    yield 'ide-pio-rw', pio_rw()
    yield 'ide-dma-read', dma_rw([(0x20000, 0x80000200)], 1)
    yield 'ide-dma-write', dma_rw([(0x20000, 0x80000200)], 1, 0xCA, 0x01)
    yield 'ide-dma-two-prds', dma_rw([(0x20000, 0x100),
                                      (0x30000, 0x80000300)], 2)
    yield 'cve-prd-past-ram', dma_rw([(0xFFFF00, 0x80001000)], 8)
    yield 'cve-prd-no-eot', dma_rw([(0x20000, 2)] * 30, 0)
    yield 'cve-prd-count0', dma_rw([(0x40000, 0x80000000)], 1)
    yield 'ide-trim', (taskfile(0x1F0, 0xE0, 1, 0) + out(0x1F1, 1) +
                       bm_setup() + dma(0x1000, prd([(0x2000, 0x80000200)]))
                       + dma(0x2000, struct.pack('<Q', 1 << 48 | 8)) +
                       out(BM + 4, 0x1000, 4) + out(0x1F7, 0x06) +
                       out(BM, 0x01) + LOOP + inp(BM + 2))
    for i, cdb in enumerate(ATAPI_CDBS):
        yield 'atapi-%02x-%d' % (cdb[0], i), atapi(cdb)
    yield 'atapi-dma-read10', bm_setup() + dma(
        0x1000, prd([(0x20000, 0x80000800)])) + atapi(ATAPI_CDBS[4], True)
    yield 'cve-2015-6855-native-max', (out(0x176, 0xA0) + out(0x177, 0xF8) +
                                       inp(0x177) + inp(0x171) +
                                       out(0x176, 0xB0) + out(0x177, 0xF8))
    yield 'cve-2015-6855-chs0', (out(0x1F6, 0xA0) + out(0x1F2, 0) +
                                 out(0x1F7, 0x91) + taskfile(0x1F0, 0xA0, 1, 1)
                                 + out(0x1F7, 0x20) + inp(0x1F7))
    yield 'cve-2015-5154-packet', (
        out(0x176, 0xA0) + out(0x171, 0) + out(0x174, 0xFE) +
        out(0x175, 0xFF) + out(0x177, 0xA0) + out(0x170, 3, 2) +
        out(0x170, 0xFF00, 2) + b''.join(out(0x170, 0xFFFF, 2)
                                         for _ in range(300)) +
        b''.join(inp(0x170, 2) for _ in range(300)))
    desc = struct.pack('>IIQ', 0x0A, 0xFFFFFFFF, 0xFFFFF0)
    yield 'cve-fw-cfg-dma', (dma(0x2000, desc) + out(0x514, 0, 4) +
                             out(0x518, 0x00200000, 4) +
                             dma(0x2000, struct.pack('>IIQ', 0x19 << 16 | 0xA,
                                                     64, 0x3000)) +
                             out(0x514, 0, 4) + out(0x518, 0x00200000, 4) +
                             out(0x518, 0xF0FFFFFF, 4))
    yield 'fw-cfg-pio', (out(0x510, 0x19, 2) +
                         b''.join(inp(0x511) for _ in range(64)))
    yield 'cve-uart-loopback', (out(0x3FB, 3) + out(0x3FA, 7) +
                                out(0x3FC, 0x10) + bytes([10]) +
                                struct.pack('<HBB', 0x3F8, 255, 0x41) +
                                time_us(60000) + bytes([11]) +
                                struct.pack('<HB', 0x3F8, 8) + inp(0x3FD))
    yield 'cve-rtc-index', b''.join(out(0x70, i) + out(0x71, 0xFF) + inp(0x71)
                                    for i in range(0, 256, 7))
    yield 'pit-tiny-period', (out(0x43, 0x34) + out(0x40, 1) + out(0x40, 0) +
                              time_us(50000) + INTACK + time_us(1000))


def main():
    outdir = sys.argv[1]
    os.makedirs(outdir, exist_ok=True)
    n = 0
    for name, data in seeds():
        with open(os.path.join(outdir, 'seed-' + name), 'wb') as f:
            f.write(data)
        n += 1
    print('%d seeds in %s' % (n, outdir))


if __name__ == '__main__':
    main()
