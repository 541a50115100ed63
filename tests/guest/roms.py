# SPDX-License-Identifier: MIT
"""Tiny firmware images for `twoostwo run --bios`, assembled by hand.

Each image is 64 KiB. The CPU leaves reset in real mode with CS base
0xFFFF0000 and IP 0xFFF0 (Intel SDM vol. 3A, 9.1.4 "First Instruction
Executed"), where the chipset maps the top of the firmware image. The
reset vector jumps near to the code at offset CODE; no far jump ever
reloads CS, so the code keeps running from the high alias and does not
depend on how the chipset maps (or shadows) 0xE0000-0xFFFFF.

Every instruction is written as its bytes with the mnemonic beside it
(encodings from Intel SDM vol. 2). No stack and no RAM are used.
"""

import struct

ROM_SIZE = 0x10000
RESET_VECTOR = 0xFFF0
CODE = 0xE000
DEBUG_PORT = 0x402

# The port fuzz writes no port whose write resets the machine or that
# carries the test's marker: the i8042 command port 0x64 (command 0xFE
# pulses reset), port 0x92 (bit 0 is fast reset), 0xCF9 (PIIX3 reset
# control) and the debug port 0x402. A word access at P also writes P+1,
# so P-1 is left out too.
FUZZ_SKIPPED = (0x64, 0x92, 0xCF9, DEBUG_PORT)
FUZZ_PASSES = 4
FUZZ_MARKER = b'\x55\xaa'

TRIPLE_FAULT_BOOT_MARK = b'T'
CPU_LOOP_START = b'S'
CPU_LOOP_END = b'E'
CPU_LOOP_INSNS_PER_ITER = 4


class Asm:
    """Bytes at a fixed origin, with labels for 8- and 16-bit jumps."""

    def __init__(self, origin):
        self.origin = origin
        self.code = bytearray()
        self.labels = {}
        self.fixups = []  # (position, size, label, end of instruction)

    def here(self):
        return self.origin + len(self.code)

    def label(self, name):
        self.labels[name] = self.here()

    def emit(self, *parts):
        for p in parts:
            self.code += bytes(p) if not isinstance(p, int) else bytes([p])

    def imm16(self, value):
        self.emit(struct.pack('<H', value & 0xFFFF))

    def jump(self, opcode, label):
        """A jump whose last byte is an 8-bit displacement to label."""
        self.emit(opcode)
        self.fixups.append((len(self.code), 1, label, len(self.code) + 1))
        self.emit(0)

    def jump16(self, opcode, label):
        """A jump whose last two bytes are a 16-bit displacement."""
        self.emit(opcode)
        self.fixups.append((len(self.code), 2, label, len(self.code) + 2))
        self.emit(0, 0)

    def assemble(self):
        for pos, size, label, end in self.fixups:
            disp = self.labels[label] - (self.origin + end)
            if size == 1:
                if not -128 <= disp <= 127:
                    raise ValueError('jump to %s out of range' % label)
                self.code[pos] = disp & 0xFF
            else:
                self.code[pos:pos + 2] = struct.pack('<H', disp & 0xFFFF)
        return bytes(self.code)


def _image(build):
    """A 64 KiB image: code from build(asm) at CODE, reset vector at top."""
    rom = bytearray(b'\xff' * ROM_SIZE)  # erased flash reads as 0xFF
    code = Asm(CODE)
    code.label('start')
    build(code)
    body = code.assemble()
    rom[CODE:CODE + len(body)] = body

    reset = Asm(RESET_VECTOR)
    reset.labels['start'] = CODE
    reset.jump16(0xE9, 'start')  # jmp near start (IP-relative, 16-bit)
    vec = reset.assemble()
    rom[RESET_VECTOR:RESET_VECTOR + len(vec)] = vec
    return bytes(rom)


def _halt_forever(a):
    a.label('halt')
    a.emit(0xF4)  # hlt
    a.jump(0xEB, 'halt')  # jmp short halt (an NMI would wake hlt)


def _mov_dx(a, value):
    a.emit(0xBA)  # mov dx, imm16
    a.imm16(value)


def triple_fault_rom(delay_outer=0x20):
    """Marks each boot on the debug port, waits a little, then faults.

    With an IDT limit of 0, int3 cannot fetch vector 3; that raises #GP,
    whose vector cannot be fetched either, so #DF; its vector 8 is out of
    the limit too: triple fault, and the processor shuts down (SDM vol. 3A,
    6.15 "Interrupt 8 - Double Fault Exception"). A PC turns shutdown into
    a reset, so the image runs again and the mark repeats.
    """
    def build(a):
        a.emit(0xFA)  # cli
        _mov_dx(a, DEBUG_PORT)  # mov dx, 0x402
        a.emit(0xB0, TRIPLE_FAULT_BOOT_MARK[0])  # mov al, 'T'
        a.emit(0xEE)  # out dx, al
        # The delay keeps resets at a sane rate: about 2 M loop turns.
        a.emit(0xBB)  # mov bx, imm16
        a.imm16(delay_outer)
        a.label('outer')
        a.emit(0xB9)  # mov cx, 0xFFFF
        a.imm16(0xFFFF)
        a.label('inner')
        a.jump(0xE2, 'inner')  # loop inner (dec cx; jnz)
        a.emit(0x4B)  # dec bx
        a.jump(0x75, 'outer')  # jnz outer
        # lidt cs:[idt_desc]: 2E = CS override, 0F 01 /3, ModRM 0x1E =
        # mod 00 reg 011 rm 110 (a bare disp16).
        a.emit(0x2E, 0x0F, 0x01, 0x1E)
        desc_at = len(a.code)
        a.imm16(0)  # patched below with the offset of idt_desc
        a.emit(0xCC)  # int3
        _halt_forever(a)
        desc = a.here()
        a.code[desc_at:desc_at + 2] = struct.pack('<H', desc)
        a.emit(struct.pack('<HI', 0, 0))  # idt_desc: limit 0, base 0
    return _image(build)


def _xorshift16(a):
    """si = next value of the 16-bit xorshift (7, 9, 8); also in ax."""
    a.emit(0x89, 0xF0)  # mov ax, si
    for op, shift in ((0xE3, 7), (0xEB, 9), (0xE3, 8)):
        a.emit(0x89, 0xC3)  # mov bx, ax
        # C1 /4 ib = shl r/m16, imm8 (ModRM E3); C1 /5 ib = shr (EB)
        a.emit(0xC1, op, shift)
        a.emit(0x31, 0xD8)  # xor ax, bx
    a.emit(0x89, 0xC6)  # mov si, ax


def port_fuzz_rom(passes=FUZZ_PASSES, seed=0xACE1):
    """Writes and reads pseudo-random values on every port, then marks.

    For each port 0..0xFFFF (minus FUZZ_SKIPPED and the port below each),
    FUZZ_PASSES times: out dx, al; out dx, ax; in al, dx; in ax, dx. A
    word access at 0xFFFF also touches 0x10000: the VMM must not index
    past its port table. Then 0x55 0xAA goes to the debug port and the CPU
    halts with interrupts off.
    """
    skipped = sorted({p for s in FUZZ_SKIPPED for p in (s - 1, s)})

    def build(a):
        a.emit(0xFA)  # cli
        a.emit(0xBE)  # mov si, seed (xorshift state, never 0)
        a.imm16(seed)
        a.emit(0xBD)  # mov bp, passes
        a.imm16(passes)
        a.label('pass')
        a.emit(0x31, 0xD2)  # xor dx, dx
        a.label('port')
        for p in skipped:
            a.emit(0x81, 0xFA)  # cmp dx, imm16 (81 /7, ModRM FA)
            a.imm16(p)
            a.jump(0x74, 'skip')  # je skip
        _xorshift16(a)
        a.emit(0xEE)  # out dx, al
        a.emit(0xEF)  # out dx, ax
        a.emit(0xEC)  # in al, dx
        a.emit(0xED)  # in ax, dx
        a.label('skip')
        a.emit(0x42)  # inc dx
        a.jump(0x75, 'port')  # jnz port (dx wrapped past 0xFFFF: done)
        a.emit(0x4D)  # dec bp
        a.jump(0x75, 'pass')  # jnz pass
        _mov_dx(a, DEBUG_PORT)  # mov dx, 0x402
        for b in FUZZ_MARKER:
            a.emit(0xB0, b)  # mov al, imm8
            a.emit(0xEE)  # out dx, al
        _halt_forever(a)
    return _image(build)


def cpu_loop_rom(instructions=200_000_000):
    """A tight 32-bit integer loop between two debug-port marks.

    'S' goes to the debug port, then the loop body (add, xor, dec, jnz:
    CPU_LOOP_INSNS_PER_ITER instructions) runs instructions/4 times, then
    'E'. The 0x66 prefix selects 32-bit operands in real mode.
    """
    iterations = max(1, instructions // CPU_LOOP_INSNS_PER_ITER)
    if iterations > 0xFFFFFFFF:
        raise ValueError('too many instructions for a 32-bit counter')

    def build(a):
        a.emit(0xFA)  # cli
        _mov_dx(a, DEBUG_PORT)  # mov dx, 0x402
        a.emit(0xB0, CPU_LOOP_START[0])  # mov al, 'S'
        a.emit(0xEE)  # out dx, al
        a.emit(0x66, 0xB9, struct.pack('<I', iterations))  # mov ecx, N
        a.emit(0x66, 0x31, 0xC0)  # xor eax, eax
        a.emit(0x66, 0x31, 0xF6)  # xor esi, esi
        a.label('loop')
        a.emit(0x66, 0x01, 0xC8)  # add eax, ecx
        a.emit(0x66, 0x31, 0xC6)  # xor esi, eax
        a.emit(0x66, 0x49)  # dec ecx
        a.jump(0x75, 'loop')  # jnz loop
        a.emit(0xB0, CPU_LOOP_END[0])  # mov al, 'E'
        a.emit(0xEE)  # out dx, al
        _halt_forever(a)
    return _image(build)


def write_rom(path, data):
    with open(path, 'wb') as f:
        f.write(data)
    return path


# --- crash_workload_rom: a disk write workload for kill -9 tests ----------
#
# Memory (real mode, DS = ES = SS = 0; below 0x7C00, free without a BIOS)
CRASH_SEQ = 0x0500  # dword: sequence number of the last write issued
CRASH_X = 0x0504  # dword: xorshift32 state
CRASH_CNT = 0x0508  # word: writes since the last flush
CRASH_DMAF = 0x050A  # word: this write goes through the bus master
CRASH_PRD = 0x0800  # one PRD entry: BUF, 1024 bytes, end of table
CRASH_BUF = 0x1000  # two sectors of records
CRASH_STACK = 0x7C00
CRASH_BM = 0xC000  # I/O base given to the PIIX3 IDE bus master (BAR4)
# PCI configuration address of 00:01.1 (PIIX3 IDE), mechanism #1
CRASH_PCI_IDE = 0x80000000 | (1 << 11) | (1 << 8)

CRASH_MAGIC = 0x48535243  # "CRSH"
CRASH_SECTORS_PER_WRITE = 2
CRASH_FILL_STEP = 0x9E37
CRASH_BOOT_MARK = b'B\n'
CRASH_ERROR_MARK = b'E'
CRASH_M32 = 0xFFFFFFFF


def crash_xorshift32(x):
    """The ROM's generator (Marsaglia's xorshift32: 13, 17, 5)."""
    x ^= (x << 13) & CRASH_M32
    x ^= x >> 17
    x ^= (x << 5) & CRASH_M32
    return x


def crash_writes(seed, seq_base, count, slots, spacing, dma):
    """The first count writes of crash_workload_rom, as the ROM makes
    them: a list of (seq, first lba, through the bus master)."""
    x = seed
    out = []
    for i in range(count):
        x = crash_xorshift32(x)
        off = (x >> 24) & 7
        use_dma = dma and bool((x >> 16) & 1)
        lba = (x % slots) * spacing + off
        out.append(((seq_base + i + 1) & CRASH_M32, lba, use_dma))
    return out


def crash_record(seq, lba):
    """The 512 bytes the ROM writes at lba for write seq."""
    w = (seq ^ lba) & 0xFFFF
    fill = [(w + k * CRASH_FILL_STEP) & 0xFFFF for k in range(248)]
    head = struct.unpack('<6H', struct.pack('<III', CRASH_MAGIC, seq,
                                            lba & CRASH_M32))
    check = -(sum(head) + sum(fill)) & 0xFFFF
    return struct.pack('<8H248H', *head, check, 0, *fill)


def crash_parse_record(sector):
    """(seq, lba) of a sector that holds a well-formed record, else None:
    magic, checksum (all 256 words sum to 0) and the whole fill."""
    if len(sector) != 512:
        return None
    magic, seq, lba = struct.unpack_from('<III', sector)
    if magic != CRASH_MAGIC or sum(struct.unpack('<256H', sector)) & 0xFFFF:
        return None
    if sector != crash_record(seq, lba):
        return None
    return seq, lba


def _crash_fill(a):
    """fill: DI = where, EAX = lba; one record of seq [CRASH_SEQ].
    Leaves EBP = lba and DI just past the record."""
    a.label('fill')
    a.emit(0x66, 0x89, 0xC5)  # mov ebp, eax
    a.emit(0x66, 0xB8, struct.pack('<I', CRASH_MAGIC))  # mov eax, MAGIC
    a.emit(0x66, 0xAB)  # stosd
    a.emit(0x66, 0xA1)  # mov eax, [SEQ]
    a.imm16(CRASH_SEQ)
    a.emit(0x66, 0xAB)  # stosd
    a.emit(0x66, 0x89, 0xE8)  # mov eax, ebp
    a.emit(0x66, 0xAB)  # stosd
    a.emit(0x66, 0x31, 0xC0)  # xor eax, eax
    a.emit(0x66, 0xAB)  # stosd (checksum 0 while summing, pad)
    a.emit(0xA1)  # mov ax, [SEQ]
    a.imm16(CRASH_SEQ)
    a.emit(0x31, 0xE8)  # xor ax, bp
    a.emit(0xB9)  # mov cx, 248
    a.imm16(248)
    a.label('fill_word')
    a.emit(0xAB)  # stosw
    a.emit(0x05)  # add ax, STEP
    a.imm16(CRASH_FILL_STEP)
    a.jump(0xE2, 'fill_word')  # loop fill_word
    a.emit(0x81, 0xEF)  # sub di, 512
    a.imm16(512)
    a.emit(0x89, 0xFE)  # mov si, di
    a.emit(0x31, 0xDB)  # xor bx, bx
    a.emit(0xB9)  # mov cx, 256
    a.imm16(256)
    a.label('sum_word')
    a.emit(0xAD)  # lodsw
    a.emit(0x01, 0xC3)  # add bx, ax
    a.jump(0xE2, 'sum_word')  # loop sum_word
    a.emit(0xF7, 0xDB)  # neg bx
    a.emit(0x89, 0x5D, 12)  # mov [di+12], bx
    a.emit(0x81, 0xC7)  # add di, 512
    a.imm16(512)
    a.emit(0xC3)  # ret


def _crash_wait_ready(a):
    """wait_ready: spin while BSY; AL = status."""
    a.label('wait_ready')
    _mov_dx(a, 0x1F7)
    a.label('wait_ready_spin')
    a.emit(0xEC)  # in al, dx
    a.emit(0xA8, 0x80)  # test al, BSY
    a.jump(0x75, 'wait_ready_spin')  # jnz
    a.emit(0xC3)  # ret


def _crash_taskfile(a, command):
    """Two sectors at LBA EBP (28-bit), master drive, then command."""
    _mov_dx(a, 0x1F2)
    a.emit(0xB0, CRASH_SECTORS_PER_WRITE)  # mov al, 2
    a.emit(0xEE)  # out dx, al
    a.emit(0x66, 0x89, 0xE8)  # mov eax, ebp
    for _ in range(3):  # 0x1F3, 0x1F4, 0x1F5: LBA bits 0-23
        a.emit(0x42)  # inc dx
        a.emit(0xEE)  # out dx, al
        a.emit(0x66, 0xC1, 0xE8, 8)  # shr eax, 8
    a.emit(0x24, 0x0F)  # and al, 0x0F (LBA bits 24-27)
    a.emit(0x0C, 0xE0)  # or al, 0xE0 (LBA, master)
    a.emit(0x42)  # inc dx (0x1F6)
    a.emit(0xEE)  # out dx, al
    a.emit(0x42)  # inc dx (0x1F7)
    a.emit(0xB0, command)  # mov al, command
    a.emit(0xEE)  # out dx, al


def _crash_pio_write(a):
    """pio_write: WRITE SECTORS (0x30) of BUF; fails on ERR or no DRQ."""
    a.label('pio_write')
    a.jump16(0xE8, 'wait_ready')  # call wait_ready
    _crash_taskfile(a, 0x30)
    a.emit(0xBE)  # mov si, BUF
    a.imm16(CRASH_BUF)
    a.emit(0xBB)  # mov bx, 2
    a.imm16(CRASH_SECTORS_PER_WRITE)
    a.label('pio_sector')
    a.jump16(0xE8, 'wait_ready')  # call wait_ready
    a.emit(0xA8, 0x21)  # test al, ERR | DF
    a.jump16((0x0F, 0x85), 'fail')  # jnz fail
    a.emit(0xA8, 0x08)  # test al, DRQ
    a.jump16((0x0F, 0x84), 'fail')  # jz fail
    _mov_dx(a, 0x1F0)
    a.emit(0xB9)  # mov cx, 256
    a.imm16(256)
    a.emit(0xF3, 0x6F)  # rep outsw
    a.emit(0x4B)  # dec bx
    a.jump(0x75, 'pio_sector')  # jnz pio_sector
    a.jump16(0xE9, 'write_done')  # jmp write_done


def _crash_dma_write(a):
    """dma_write: WRITE DMA (0xCA) of BUF through the bus master."""
    a.label('dma_write')
    a.jump16(0xE8, 'wait_ready')  # call wait_ready
    _mov_dx(a, CRASH_BM)
    a.emit(0xB0, 0x00)  # mov al, 0 (stopped; memory to disk)
    a.emit(0xEE)  # out dx, al
    _mov_dx(a, CRASH_BM + 2)
    a.emit(0xB0, 0x06)  # mov al, IRQ | ERR (write 1 to clear)
    a.emit(0xEE)  # out dx, al
    _mov_dx(a, CRASH_BM + 4)
    a.emit(0x66, 0xB8, struct.pack('<I', CRASH_PRD))  # mov eax, PRD
    a.emit(0x66, 0xEF)  # out dx, eax
    _crash_taskfile(a, 0xCA)
    _mov_dx(a, CRASH_BM)
    a.emit(0xB0, 0x01)  # mov al, START
    a.emit(0xEE)  # out dx, al
    _mov_dx(a, CRASH_BM + 2)
    a.label('dma_spin')
    a.emit(0xEC)  # in al, dx
    a.emit(0xA8, 0x02)  # test al, ERR
    a.jump16((0x0F, 0x85), 'fail')  # jnz fail
    a.emit(0xA8, 0x04)  # test al, IRQ
    a.jump(0x74, 'dma_spin')  # jz dma_spin
    _mov_dx(a, CRASH_BM)
    a.emit(0xB0, 0x00)  # mov al, 0 (stop the engine)
    a.emit(0xEE)  # out dx, al
    a.label('write_done')
    a.jump16(0xE8, 'wait_ready')  # call wait_ready
    a.emit(0xA8, 0x29)  # test al, ERR | DF | DRQ
    a.jump16((0x0F, 0x85), 'fail')  # jnz fail
    a.emit(0xC3)  # ret


def _crash_flush(a):
    """flush: FLUSH CACHE (0xE7), wait, then "F<seq in hex>\\n" on 0x402."""
    a.label('flush')
    a.jump16(0xE8, 'wait_ready')  # call wait_ready
    _mov_dx(a, 0x1F6)
    a.emit(0xB0, 0xE0)  # mov al, 0xE0 (master)
    a.emit(0xEE)  # out dx, al
    a.emit(0x42)  # inc dx (0x1F7)
    a.emit(0xB0, 0xE7)  # mov al, FLUSH CACHE
    a.emit(0xEE)  # out dx, al
    a.jump16(0xE8, 'wait_ready')  # call wait_ready
    a.emit(0xA8, 0x29)  # test al, ERR | DF | DRQ
    a.jump16((0x0F, 0x85), 'fail')  # jnz fail
    _mov_dx(a, DEBUG_PORT)
    a.emit(0xB0, ord('F'))  # mov al, 'F'
    a.emit(0xEE)  # out dx, al
    a.emit(0x66, 0xA1)  # mov eax, [SEQ]
    a.imm16(CRASH_SEQ)
    a.emit(0xB9)  # mov cx, 8
    a.imm16(8)
    a.label('hex_digit')
    a.emit(0x66, 0xC1, 0xC0, 4)  # rol eax, 4
    a.emit(0x89, 0xC3)  # mov bx, ax
    a.emit(0x83, 0xE3, 0x0F)  # and bx, 0x0F
    a.emit(0x2E, 0x8A, 0x9F)  # mov bl, cs:[bx + hex]
    a.abs16('hex')
    a.emit(0x66, 0x50)  # push eax
    a.emit(0x88, 0xD8)  # mov al, bl
    a.emit(0xEE)  # out dx, al
    a.emit(0x66, 0x58)  # pop eax
    a.jump(0xE2, 'hex_digit')  # loop hex_digit
    a.emit(0xB0, 0x0A)  # mov al, '\n'
    a.emit(0xEE)  # out dx, al
    a.emit(0xC3)  # ret


def _crash_init(a, seed, seq_base):
    a.emit(0xFA)  # cli
    a.emit(0x31, 0xC0)  # xor ax, ax
    a.emit(0x8E, 0xD8)  # mov ds, ax
    a.emit(0x8E, 0xC0)  # mov es, ax
    a.emit(0x8E, 0xD0)  # mov ss, ax
    a.emit(0xBC)  # mov sp, STACK
    a.imm16(CRASH_STACK)
    a.emit(0xFC)  # cld
    # PIIX3 IDE: decode both channels (IDETIM bit 15), bus master I/O at
    # CRASH_BM (BAR4), I/O space and bus mastering on (command register).
    for reg, value in ((0x40, 0x80008000), (0x20, CRASH_BM | 1),
                       (0x04, 0x00000005)):
        _mov_dx(a, 0xCF8)
        a.emit(0x66, 0xB8, struct.pack('<I', CRASH_PCI_IDE | reg))
        a.emit(0x66, 0xEF)  # out dx, eax
        _mov_dx(a, 0xCFC)
        a.emit(0x66, 0xB8, struct.pack('<I', value))  # mov eax, value
        a.emit(0x66, 0xEF)  # out dx, eax
    _mov_dx(a, 0x3F6)
    a.emit(0xB0, 0x02)  # mov al, nIEN: poll, no interrupts
    a.emit(0xEE)  # out dx, al
    for addr, value in ((CRASH_PRD, CRASH_BUF),
                        (CRASH_PRD + 4, 0x80000000 | 512 *
                         CRASH_SECTORS_PER_WRITE),
                        (CRASH_X, seed), (CRASH_SEQ, seq_base)):
        a.emit(0x66, 0xB8, struct.pack('<I', value))  # mov eax, value
        a.emit(0x66, 0xA3)  # mov [addr], eax
        a.imm16(addr)
    a.emit(0xC7, 0x06)  # mov word [CNT], 0
    a.imm16(CRASH_CNT)
    a.imm16(0)
    _mov_dx(a, DEBUG_PORT)
    for b in CRASH_BOOT_MARK:
        a.emit(0xB0, b)  # mov al, imm8
        a.emit(0xEE)  # out dx, al


def _crash_next_write(a, slots, shift, dma):
    """EBP = the next write's first LBA, [DMAF] its path, [SEQ] + 1."""
    a.emit(0x66, 0xA1)  # mov eax, [X]
    a.imm16(CRASH_X)
    for op, n in ((0xE3, 13), (0xEB, 17), (0xE3, 5)):
        a.emit(0x66, 0x89, 0xC3)  # mov ebx, eax
        a.emit(0x66, 0xC1, op, n)  # shl/shr ebx, n
        a.emit(0x66, 0x31, 0xD8)  # xor eax, ebx
    a.emit(0x66, 0xA3)  # mov [X], eax
    a.imm16(CRASH_X)
    a.emit(0x66, 0x89, 0xC1)  # mov ecx, eax
    a.emit(0x66, 0xC1, 0xE9, 16)  # shr ecx, 16
    a.emit(0x66, 0x83, 0xE1, 1 if dma else 0)  # and ecx, dma
    a.emit(0x89, 0x0E)  # mov [DMAF], cx
    a.imm16(CRASH_DMAF)
    a.emit(0x66, 0x89, 0xC3)  # mov ebx, eax
    a.emit(0x66, 0xC1, 0xEB, 24)  # shr ebx, 24
    a.emit(0x66, 0x83, 0xE3, 7)  # and ebx, 7
    a.emit(0x66, 0x31, 0xD2)  # xor edx, edx
    a.emit(0x66, 0xB9, struct.pack('<I', slots))  # mov ecx, slots
    a.emit(0x66, 0xF7, 0xF1)  # div ecx
    a.emit(0x66, 0x89, 0xD0)  # mov eax, edx
    a.emit(0x66, 0xC1, 0xE0, shift)  # shl eax, shift
    a.emit(0x66, 0x01, 0xD8)  # add eax, ebx
    a.emit(0x66, 0x89, 0xC5)  # mov ebp, eax
    a.emit(0x66, 0xFF, 0x06)  # inc dword [SEQ]
    a.imm16(CRASH_SEQ)


class _AbsAsm(Asm):
    """Asm with 16-bit absolute addresses of labels (CS offsets)."""

    def __init__(self, origin):
        super().__init__(origin)
        self.abs_fixups = []

    def abs16(self, label):
        self.abs_fixups.append((len(self.code), label))
        self.imm16(0)

    def assemble(self):
        for pos, label in self.abs_fixups:
            self.code[pos:pos + 2] = struct.pack('<H', self.labels[label])
        return super().assemble()


def crash_workload_rom(seed, seq_base=0, slots=4096, spacing=16,
                       flush_every=4, dma=True):
    """Writes records to the primary master disk until killed.

    Each write covers CRASH_SECTORS_PER_WRITE sectors from LBA
    (x % slots) * spacing + ((x >> 24) & 7), x the next xorshift32 value
    from seed; every sector carries crash_record(seq, its lba), seq
    counting up from seq_base + 1. Bit 16 of x picks WRITE DMA through
    the PIIX3 bus master (if dma) or WRITE SECTORS by PIO. After every
    flush_every writes, FLUSH CACHE, then "F%08x\\n" (the last seq issued)
    on the debug port: every write up to it is on the disk. Any error
    prints "E" and halts. crash_writes() lists the writes in order.
    """
    shift = spacing.bit_length() - 1
    if seed == 0 or spacing != 1 << shift or spacing < 8:
        raise ValueError('seed must be non-zero, spacing a power of 2 >= 8')

    def build(a):
        _crash_init(a, seed, seq_base)
        a.label('loop')
        _crash_next_write(a, slots, shift, dma)
        a.emit(0xBF)  # mov di, BUF
        a.imm16(CRASH_BUF)
        for i in range(CRASH_SECTORS_PER_WRITE):
            a.emit(0x66, 0x89, 0xE8)  # mov eax, ebp
            if i:
                a.emit(0x66, 0x40)  # inc eax
            a.jump16(0xE8, 'fill')  # call fill (EBP = its lba)
        a.emit(0x66, 0x83, 0xED, CRASH_SECTORS_PER_WRITE - 1)  # sub ebp
        a.emit(0x83, 0x3E)  # cmp word [DMAF], 0
        a.imm16(CRASH_DMAF)
        a.emit(0)
        a.jump(0x74, 'use_pio')  # je use_pio
        a.jump16(0xE8, 'dma_write')  # call dma_write
        a.jump(0xEB, 'written')  # jmp written
        a.label('use_pio')
        a.jump16(0xE8, 'pio_write')  # call pio_write
        a.label('written')
        a.emit(0xFF, 0x06)  # inc word [CNT]
        a.imm16(CRASH_CNT)
        a.emit(0x83, 0x3E)  # cmp word [CNT], flush_every
        a.imm16(CRASH_CNT)
        a.emit(flush_every)
        a.jump16((0x0F, 0x82), 'loop')  # jb loop
        a.emit(0xC7, 0x06)  # mov word [CNT], 0
        a.imm16(CRASH_CNT)
        a.imm16(0)
        a.jump16(0xE8, 'flush')  # call flush
        a.jump16(0xE9, 'loop')  # jmp loop
        a.label('fail')
        _mov_dx(a, DEBUG_PORT)
        a.emit(0xB0, CRASH_ERROR_MARK[0])  # mov al, 'E'
        a.emit(0xEE)  # out dx, al
        _halt_forever(a)
        _crash_fill(a)
        _crash_wait_ready(a)
        _crash_pio_write(a)
        _crash_dma_write(a)
        _crash_flush(a)
        a.label('hex')
        a.emit(b'0123456789abcdef')

    return _image_abs(build)


def _image_abs(build):
    """_image for builders that use _AbsAsm."""
    rom = bytearray(b'\xff' * ROM_SIZE)
    code = _AbsAsm(CODE)
    code.label('start')
    build(code)
    body = code.assemble()
    rom[CODE:CODE + len(body)] = body
    reset = Asm(RESET_VECTOR)
    reset.labels['start'] = CODE
    reset.jump16(0xE9, 'start')  # jmp near start
    vec = reset.assemble()
    rom[RESET_VECTOR:RESET_VECTOR + len(vec)] = vec
    return bytes(rom)
