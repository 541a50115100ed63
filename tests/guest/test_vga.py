#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The VGA adapter through the BIOS and the registers, seen in PNG screen
dumps: one boot of vga_modes.asm draws in text mode 0x01 (its own font),
mode 0x12 (planar, three write modes), 0x13, mode X, VBE 1024x768x32 with
the linear framebuffer and VBE 1024x768x4 (planar, banked window); each
`twoostwo control SOCK screendump` must match the picture vga_patterns.py
computes, pixel for pixel. One boot, about 10 s."""

import os
import tempfile

import harness
import vga_patterns
from harness import Skip, TestFailure, Vm

MODES = [
    ('vga_text40_user_font', vga_patterns.text40_expected),
    ('vga_mode12_planar', vga_patterns.mode12_expected),
    ('vga_mode13', vga_patterns.mode13_expected),
    ('vga_modex', vga_patterns.modex_expected),
    ('vga_vbe_1024x768x32_lfb', vga_patterns.vbe32_expected),
    ('vga_vbe_1024x768x4_planar', vga_patterns.vbe4_expected),
]


def tests(r):
    tmp = tempfile.TemporaryDirectory(prefix='twoostwo-vga-')
    state = {}

    def boot():
        img = vga_patterns.assemble(os.path.join(tmp.name, 'vga.img'))
        if not img:
            raise Skip('nasm is not installed')
        sock = os.path.join(tmp.name, 'control.sock')
        vm = Vm('--hda', img + ',ro', '--boot', 'disk', '--control', sock,
                serial='stdio')
        state['vm'], state['sock'] = vm, sock

    def mode(n, name, expected):
        def check():
            vm = state.get('vm')
            if not vm:
                raise Skip('the machine did not start')
            vm.wait_for_file_text(vm.debug_log_path,
                                  'VGATEST READY %d' % n, 60)
            png = os.path.join(tmp.name, name + '.png')
            status, out, err = harness.run_command(
                ['control', state['sock'], 'screendump', png])
            if status != 0:
                raise TestFailure('screendump: %s %s' % (out, err))
            diff = vga_patterns.compare(vga_patterns.read_png(png),
                                        expected())
            vm.send_serial('g')
            if diff:
                raise TestFailure(diff)
        return check

    def finish():
        vm = state.get('vm')
        if not vm:
            raise Skip('the machine did not start')
        vm.wait_for_file_text(vm.debug_log_path, 'VGATEST DONE', 60)
        if b'VGATEST FAIL' in vm.debug_log():
            raise TestFailure('the guest program failed')
        vm.stop_cleanly()

    try:
        r.run('vga_boot', boot)
        for n, (name, expected) in enumerate(MODES, 1):
            r.run(name, mode(n, name, expected))
        r.run('vga_done', finish)
    finally:
        tmp.cleanup()


if __name__ == '__main__':
    harness.main(tests)
