#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""SeaBIOS on a machine with no media: it starts, and says it found
nothing to boot, and the machine stays up."""

import time

import harness
from harness import TestFailure, Vm


def tests(r):
    vm = Vm()

    def seabios_banner():
        # SeaBIOS prints its version on its debug port (0x402) and on the
        # screen once the VGA BIOS is up.
        vm.wait_for_file_text(vm.debug_log_path, 'SeaBIOS (version', 30)
        vm.wait_for_screen('SeaBIOS', 30)

    def no_bootable_device():
        vm.wait_for_screen('No bootable device', 60)
        time.sleep(3)
        if not vm.alive():
            raise TestFailure('exited (status %s) after "No bootable '
                              'device"' % vm.proc.returncode)
        vm.stop_cleanly()

    r.run('seabios_banner', seabios_banner, vm)
    r.run('no_bootable_device', no_bootable_device, vm)


if __name__ == '__main__':
    harness.main(tests)
