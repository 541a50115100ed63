#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The sandbox and the resource limits (docs/SECURITY.md), with tiny ROM
guests (no boot, a few seconds in all):

  sandbox_on             a running VM is in seccomp filter mode, with
                         no_new_privs and no effective capabilities
  sandbox_clean_exit     a normal exit (TWOOSTWO_MAX_INSNS) inside the
                         sandbox: status 0, no sanitizer report (LeakSanitizer
                         runs inside it under ASan)
  sandbox_forbidden_call the debug hook (TWOOSTWO_SANDBOX_TEST=forbidden)
                         makes the machine thread call chroot: the process
                         ends with status 159 and a message naming it
  spin_control_answers   a guest spinning with interrupts off does not
                         starve the control socket: `twoostwo control
                         status` answers quickly, again and again; a CD
                         insert from outside the allowed folders is
                         refused (Landlock), from the --cdrom folder works
  debug_log_capped       a guest writing port 0x402 forever fills its log
                         file only up to TWOOSTWO_LOG_LIMIT
"""

import os
import shutil
import tempfile
import time

import harness
import roms
from harness import TestFailure, Vm, guest, run_command, scaled

LOG_LIMIT = 65536
CONTROL_ANSWER_S = 2.0


def spin_rom():
    """cli, then jmp $ forever: the vCPU never halts or does I/O."""
    def build(a):
        a.emit(0xFA)  # cli
        a.label('spin')
        a.jump(0xEB, 'spin')  # jmp short spin
    return roms._image(build)


def log_flood_rom():
    """'x' to the debug port, forever."""
    def build(a):
        a.emit(0xFA)  # cli
        roms._mov_dx(a, roms.DEBUG_PORT)
        a.emit(0xB0, ord('x'))  # mov al, 'x'
        a.label('again')
        a.emit(0xEE)  # out dx, al
        a.jump(0xEB, 'again')
    return roms._image(build)


def proc_status(pid):
    with open('/proc/%d/status' % pid) as f:
        return dict(line.rstrip('\n').split(':\t', 1) for line in f
                    if ':\t' in line)


def with_env(name, value, make):
    old = os.environ.get(name)
    os.environ[name] = value
    try:
        return make()
    finally:
        if old is None:
            del os.environ[name]
        else:
            os.environ[name] = old


def tests(r):
    tmp = tempfile.TemporaryDirectory(prefix='twoostwo-sandbox-')
    spin = roms.write_rom(os.path.join(tmp.name, 'spin.rom'), spin_rom())
    sock = os.path.join(tmp.name, 'control')

    def sandbox_on():
        vm = Vm('--bios', spin)
        time.sleep(scaled(1))
        st = proc_status(vm.proc.pid)
        if st.get('Seccomp', '').strip() != '2':
            raise TestFailure('Seccomp: %r, expected 2 (filter)'
                              % st.get('Seccomp'))
        if st.get('NoNewPrivs', '').strip() != '1':
            raise TestFailure('NoNewPrivs: %r' % st.get('NoNewPrivs'))
        if int(st.get('CapEff', '1'), 16) != 0:
            raise TestFailure('CapEff: %r' % st.get('CapEff'))
        vm.stop_cleanly()
        off = Vm('--bios', spin, '--sandbox', 'off')
        time.sleep(scaled(1))
        if proc_status(off.proc.pid).get('Seccomp', '').strip() != '0':
            raise TestFailure('--sandbox off still filters')
        off.stop_cleanly()

    def sandbox_clean_exit():
        # A normal exit (after TWOOSTWO_MAX_INSNS instructions) with the
        # sandbox on: under ASan LeakSanitizer runs inside the sandbox.
        vm = with_env('TWOOSTWO_MAX_INSNS', '20000000',
                      lambda: Vm('--bios', spin))
        rc = vm.wait_exit(60)
        if rc != 0:
            raise TestFailure('exit status %r after the instruction '
                              'limit, expected 0' % rc)
        vm.check_no_sanitizer_report()

    def sandbox_forbidden_call():
        vm = with_env('TWOOSTWO_SANDBOX_TEST', 'forbidden',
                      lambda: Vm('--bios', spin))
        rc = vm.wait_exit(30)
        want = b'twoostwo: sandbox: forbidden system call chroot (nr '
        if rc != 159:
            raise TestFailure('exit status %r, expected 159' % rc)
        if want not in vm.stderr():
            raise TestFailure('no %r on stderr' % want)

    def spin_control_answers():
        vm = Vm('--bios', spin, '--cdrom', guest('freedos.iso'),
                '--control', sock)
        vm.wait_until(lambda: os.path.exists(sock), 30, 'the control socket')
        time.sleep(scaled(0.5))
        worst = 0.0
        for _ in range(5):
            t0 = time.monotonic()
            rc, out, _ = run_command(['control', sock, 'status'],
                                     timeout=30)
            worst = max(worst, time.monotonic() - t0)
            if rc != 0 or b'cdrom=' not in out:
                raise TestFailure('control status: %r %r' % (rc, out))
        if worst > scaled(CONTROL_ANSWER_S):
            raise TestFailure('control status took %.2f s with the guest '
                              'spinning' % worst)
        # Landlock: an ISO outside the --cdrom and socket folders cannot
        # be opened; one in the --cdrom folder can.
        other = tempfile.TemporaryDirectory(prefix='twoostwo-other-')
        outside = os.path.join(other.name, 'outside.iso')
        shutil.copyfile(guest('isolinux.iso'), outside)
        rc, out, _ = run_command(['control', sock, 'insert', outside],
                                 timeout=30)
        other.cleanup()
        if rc == 0 or b'ermission denied' not in out:
            raise TestFailure('insert from outside the allowed folders: '
                              '%r %r' % (rc, out))
        rc, out, _ = run_command(['control', sock, 'insert',
                                  guest('isolinux.iso')], timeout=30)
        if rc != 0:
            raise TestFailure('insert from the --cdrom folder: %r %r'
                              % (rc, out))
        vm.stop_cleanly()
        if os.path.exists(sock):
            raise TestFailure('the control socket was left behind')

    def debug_log_capped():
        rom = roms.write_rom(os.path.join(tmp.name, 'flood.rom'),
                             log_flood_rom())
        vm = with_env('TWOOSTWO_LOG_LIMIT', str(LOG_LIMIT),
                      lambda: Vm('--bios', rom))
        vm.wait_until(lambda: len(vm.debug_log()) >= LOG_LIMIT, 60,
                      'the debug log to reach the limit')
        time.sleep(scaled(1))
        size = len(vm.debug_log())
        if size != LOG_LIMIT:
            raise TestFailure('debug log %d bytes, limit %d'
                              % (size, LOG_LIMIT))
        if b'limit' not in vm.stderr():
            raise TestFailure('no warning about the limit on stderr')
        vm.stop_cleanly()

    try:
        r.run('sandbox_on', sandbox_on)
        r.run('sandbox_clean_exit', sandbox_clean_exit)
        r.run('sandbox_forbidden_call', sandbox_forbidden_call)
        r.run('spin_control_answers', spin_control_answers)
        r.run('debug_log_capped', debug_log_capped)
    finally:
        tmp.cleanup()


if __name__ == '__main__':
    harness.main(tests)
