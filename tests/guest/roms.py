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
