#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""ISOLINUX from a no-emulation El Torito CD: its banner and the SAY line
of its config on screen; its banner and boot: prompt on COM1."""

import harness
from harness import TestFailure, Vm, guest


def tests(r):
    vm = Vm('--cdrom', guest('isolinux.iso'), '--boot', 'cd')

    def isolinux_banner():
        vm.wait_for_screen('ISOLINUX', 60)
        vm.wait_for_screen('TWOOSTWO-ISOLINUX-OK', 10)

    def isolinux_serial():
        # ISOLINUX programs the 16550 itself (SERIAL 0 115200), then
        # writes its banner and prompt there.
        vm.wait_for_file_text(vm.serial_path, 'boot:', 30)
        if b'ISOLINUX' not in vm.serial():
            raise TestFailure('no ISOLINUX banner on the serial port')
        vm.stop_cleanly()

    r.run('isolinux_banner', isolinux_banner, vm)
    r.run('isolinux_serial', isolinux_serial, vm)


if __name__ == '__main__':
    harness.main(tests)
