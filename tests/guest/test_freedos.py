#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""FreeDOS from an El Torito floppy-emulation CD: boots to its prompt on
the VGA text screen and runs a command typed on the PS/2 keyboard."""

import harness
from harness import TestFailure, Vm, guest

PROMPT = 'A:\\>'


def tests(r):
    # No --boot: SeaBIOS's default order must find the CD by itself.
    vm = Vm('--cdrom', guest('freedos.iso'), display='terminal')

    def freedos_prompt():
        vm.wait_for_screen(PROMPT, 60)

    def freedos_ver():
        if PROMPT not in vm.screen():
            raise TestFailure('no prompt to type at')
        # Plain `ver` prints FreeCOM's version line; `ver /r` adds the
        # kernel's: "FreeCom version 0.82 pl 3 ...", "FreeDOS kernel ...".
        vm.type_keys('ver\r')
        vm.wait_for_screen('FreeCom version', 20)
        vm.type_keys('ver /r\r')
        vm.wait_for_screen('FreeDOS kernel', 20)
        vm.stop_cleanly()

    r.run('freedos_prompt', freedos_prompt, vm)
    r.run('freedos_ver', freedos_ver, vm)


if __name__ == '__main__':
    harness.main(tests)
