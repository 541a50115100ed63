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


def frame(card, data):
    """A frame off the wire for card 0 (NE2000 ISA) or 1 (RTL8029)."""
    return bytes([12 | card << 4]) + struct.pack('<H', len(data)) + data


def fault(what, err, n):
    """The next n requests of hda/hdb/cd (0-2) or sends of card 0/1 (3, 4)
    fail; err 0 EIO, 1 ENOSPC, 2 EINVAL."""
    return bytes([13, what, err, n])


def st(sub, payload=b''):
    """A structured conversation (fuzz_machine.c, op 14)."""
    return bytes([14, sub]) + payload


def st_ide(flags, lba, count, hi, prds):
    """IDE bus-master transfer; flags: bit 0 secondary, 1 slave, 2-4 the
    command (READ DMA, WRITE DMA, their EXT forms, TRIM, VERIFY)."""
    body = bytes([flags, lba, count, hi, len(prds) - 1])
    for addr, n, fl in prds:
        body += struct.pack('<HHB', addr, n, fl)
    return st(1, body)


def st_atapi(cdb, dma=False, reads=8, prds=((0, 2048, 1),)):
    cdb = cdb + bytes(12 - len(cdb))
    body = bytes([1 if dma else 0, 0xFE, 0xFF, reads]) + cdb
    if dma:
        body = bytes([1 | (len(prds) - 1) << 1]) + body[1:]
        body += b''.join(struct.pack('<HHB', a, n, f) for a, n, f in prds)
    return st(2, body)


def st_dispi(x, y, bpp_i, enable, bank=0, vw=0, vh=0, xo=0, yo=0, mode=0):
    return st(3, struct.pack('<HHBBBHHHHB', x, y, bpp_i, enable, bank, vw,
                             vh, xo, yo, mode))


def st_nic_rx(card, pstart, pstop, bnry, curr, rcr, dcr=0x49, allmulti=0):
    return st(5, bytes([card | allmulti << 7, pstart, pstop, bnry, curr,
                        rcr, dcr]))


def st_nic_tx(card, data, dcr=0x49, tpsr=0x40, loopback=0):
    return st(4, bytes([card | loopback << 1, dcr, tpsr]) +
              struct.pack('<H', len(data)) + data)


def st_nic_read(card, addr, count, word=True):
    return st(6, bytes([card | (2 if word else 0)]) +
              struct.pack('<HH', addr, count))


RENDER = st(7)
PCI_SETUP = st(0)
BCAST = b'\xff' * 6 + bytes([0x52, 0x54, 0, 1, 2, 3]) + b'\x08\x06'
MYMAC = bytes([0x52, 0x54, 0, 0x12, 0x34, 0x56])
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
    for card in (0, 1):
        name = 'isa' if card == 0 else 'pci'
        yield 'net-%s-rx' % name, (
            st_nic_rx(card, 0x46, 0x80, 0x46, 0x47, 0x04) +
            frame(card, BCAST + bytes(range(50))) +
            frame(card, MYMAC + BCAST[6:] + bytes(100)) +
            st_nic_read(card, 0x4700, 200))
        yield 'net-%s-tx' % name, (
            st_nic_tx(card, BCAST + bytes(range(60))) +
            st_nic_tx(card, BCAST + bytes(1500), dcr=0x48) +
            fault(3 + card, 0, 1) + st_nic_tx(card, BCAST + bytes(46)) +
            st_nic_tx(card, BCAST + bytes(46)) + fault(3 + card, 0, 0) +
            st_nic_tx(card, BCAST + bytes(46)))
        yield 'net-%s-loopback' % name, (
            st_nic_rx(card, 0x46, 0x80, 0x46, 0x47, 0x1C) +
            st_nic_tx(card, MYMAC + bytes(60), loopback=1) +
            st_nic_read(card, 0x4700, 80))
        # Known NE2000 patterns (docs/SECURITY.md): an empty or inverted
        # ring (CVE-2015-5278), CURR outside it (CVE-2015-5279), a frame
        # larger than the ring (CVE-2018-10839).
        yield 'cve-2015-5278-%s-ring-empty' % name, (
            st_nic_rx(card, 0x46, 0x46, 0x46, 0x46, 0x14) +
            frame(card, BCAST + bytes(100)))
        yield 'cve-2015-5278-%s-ring-inverted' % name, (
            st_nic_rx(card, 0x80, 0x46, 0x46, 0x50, 0x14) +
            frame(card, BCAST + bytes(1000)))
        yield 'cve-2015-5279-%s-curr-outside' % name, (
            st_nic_rx(card, 0x46, 0x60, 0x46, 0xFF, 0x14) +
            frame(card, BCAST + bytes(1500)) + st_nic_read(card, 0xFF00,
                                                          300))
        yield 'cve-2018-10839-%s-frame-over-ring' % name, (
            st_nic_rx(card, 0x7F, 0x80, 0x7F, 0x7F, 0x14) +
            frame(card, BCAST + bytes(1504)) +
            b''.join(frame(card, BCAST + bytes(60)) for _ in range(70)) +
            time_us(30000) + st_nic_read(card, 0x7F00, 1600))
    # Page 3 of the RTL8029 (config registers behind 9346CR), and the PROM
    # (station address) by remote DMA on both cards, as drivers probe them.
    rtl = 0xC100
    yield 'net-pci-page3', (PCI_SETUP + out(rtl, 0xE2) +
                            b''.join(inp(rtl + i) for i in range(16)) +
                            out(rtl + 1, 0xC0) + out(rtl + 5, 0xFF) +
                            out(rtl + 6, 0xFF) + out(rtl + 3, 0xFF) +
                            out(rtl + 1, 0x00) +
                            b''.join(inp(rtl + i) for i in range(16)) +
                            out(rtl, 0x22) + inp(rtl + 0x0A) +
                            inp(rtl + 0x0B))
    for card in (0, 1):
        yield 'net-%s-prom' % ('isa' if card == 0 else 'pci'), (
            PCI_SETUP + inp(0x31F if card == 0 else rtl + 0x1F) +
            st_nic_read(card, 0, 32, word=False) +
            st_nic_read(card, 0, 32) + st_nic_read(card, 0xC000, 64))
    yield 'ide-st-read', PCI_SETUP + st_ide(0, 0, 4, 0, [(0, 2048, 1)])
    yield 'ide-st-write-ext', st_ide(3 << 2, 8, 2, 0, [(0, 512, 0),
                                                      (4, 512, 1)])
    yield 'ide-st-slave-ro-write', st_ide(2 | 1 << 2, 0, 1, 0,
                                          [(0, 512, 1)])
    yield 'ide-st-read-fails', (fault(0, 0, 1) +
                                st_ide(0, 0, 1, 0, [(0, 512, 1)]) +
                                fault(0, 1, 2) +
                                st_ide(1 << 2, 0, 1, 0, [(0, 512, 1)]) +
                                fault(0, 2, 1) + out(0x1F6, 0xE0) +
                                out(0x1F7, 0xE7) + LOOP + inp(0x1F7))
    yield 'ide-st-prd-short', st_ide(0, 0, 8, 0, [(0, 512, 0), (2, 2, 0),
                                                  (3, 4, 1)])
    yield 'ide-st-prd-past-ram', st_ide(0, 0, 8, 0, [(0xFFFF, 0xFFFE, 3)])
    for i, cdb in enumerate(ATAPI_CDBS):
        yield 'atapi-st-%02x-%d' % (cdb[0], i), st_atapi(cdb, reads=16)
    yield 'atapi-st-dma-read10', st_atapi(ATAPI_CDBS[4], True)
    yield 'atapi-st-dma-read-fails', (fault(2, 0, 1) +
                                      st_atapi(ATAPI_CDBS[4], True) +
                                      st_atapi(ATAPI_CDBS[1]))
    yield 'vbe-lfb-32', (st_dispi(1024, 768, 5, 0x41) + RENDER +
                         bytes([8 | 2 << 4, 4, 0, 0]) + b'\xff' * 4 + RENDER)
    yield 'vbe-banked-8', (st_dispi(640, 480, 1, 0x01, bank=3, vw=800,
                                    mode=2) + bytes([8, 0, 0, 0]) +
                           b'\x12\x00\x00\x00' + RENDER)
    yield 'vbe-mmio-16', (st_dispi(800, 600, 3, 0x41, vw=1024, vh=2048,
                                   xo=16, yo=32, mode=3) + RENDER)
    yield 'vbe-4bpp-virt', st_dispi(1280, 1024, 0, 0xC1, vw=0xFFFF,
                                    vh=0xFFFF, xo=0xFFF0, yo=0xFFFE,
                                    mode=2) + RENDER
    yield 'vbe-too-big', st_dispi(2047, 2047, 5, 0x41) + RENDER
    yield 'vga-text-render', (out(0x3D4, 0x0A) + out(0x3D5, 0x0E) +
                              bytes([8 | 1 << 4, 1, 0, 0]) +
                              b'\x41\x07\x00\x00' + RENDER)
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
