#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Hostile firmware (see roms.py): a triple fault must reset the machine,
not the process; writes to every I/O port must not crash it."""

import os
import tempfile
import time

import harness
import roms
from harness import TestFailure, Vm


def tests(r):
    tmp = tempfile.TemporaryDirectory(prefix='twoostwo-roms-')

    def rom(name, data):
        return roms.write_rom(os.path.join(tmp.name, name), data)

    def triple_fault():
        vm = Vm('--bios', rom('triple-fault.rom', roms.triple_fault_rom()))
        # Two boot marks: the machine reset after the first fault and
        # ran the firmware again.
        vm.wait_for_file_text(vm.debug_log_path,
                              roms.TRIPLE_FAULT_BOOT_MARK, 30, count=2)
        vm.wait_until(lambda: vm.stderr().lower().count(b'triple fault')
                      >= 2, 30, 'stderr to report "triple fault" twice')
        vm.stop_cleanly()

    def port_fuzz():
        vm = Vm('--bios', rom('port-fuzz.rom', roms.port_fuzz_rom()))
        vm.wait_for_file_text(vm.debug_log_path, roms.FUZZ_MARKER, 120)
        time.sleep(0.5)
        if not vm.alive():
            raise TestFailure('exited (status %s) after the fuzz'
                              % vm.proc.returncode)
        vm.stop_cleanly()

    try:
        r.run('triple_fault', triple_fault)
        r.run('port_fuzz', port_fuzz)
    finally:
        tmp.cleanup()


if __name__ == '__main__':
    harness.main(tests)
