#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Choosing the CPU engine (--engine soft|kvm|auto): auto says which engine
it took and why, kvm refuses with one line where the host has no hardware
virtualization, hybrid is refused as not implemented yet. On a host with
VT-x/AMD-V, SeaBIOS also runs under the kvm engine. No guest boots here:
every run is the firmware for at most a few seconds."""

import os
import tempfile

import harness
from harness import Skip, TestFailure, run_command

QUIET = ['--display', 'none', '--serial', 'none']


def host_has_hw_kvm():
    """The kvm engine's own rule (cpu/kvm/kvm_host.c), for expectations."""
    if not os.path.exists('/dev/kvm'):
        return False
    try:
        with open('/proc/cpuinfo') as f:
            flags = next((l for l in f if l.startswith('flags')), '')
    except OSError:
        return False
    vendor = any(os.path.exists('/sys/module/' + m)
                 for m in ('kvm_intel', 'kvm_amd'))
    return vendor and (' vmx' in flags or ' svm' in flags)


def one_line(err):
    lines = err.decode('utf-8', 'replace').splitlines()
    if len(lines) != 1 or not lines[0].startswith('twoostwo:'):
        raise TestFailure('want one "twoostwo:" line on stderr, got %r'
                          % lines[:5])
    return lines[0]


def auto_says_which():
    status, _, err = run_command(['run', '--engine', 'auto', '--timeout',
                                  '1', *QUIET], timeout=20)
    text = err.decode('utf-8', 'replace')
    if status != 3:
        raise TestFailure('exit status %r, want 3 (timeout): %s'
                          % (status, text))
    want = 'kvm' if host_has_hw_kvm() else 'soft'
    if 'twoostwo: engine auto: %s (' % want not in text:
        raise TestFailure('auto did not say it picked %s: %r'
                          % (want, text))
    if want == 'soft' and '/dev/kvm' not in text:
        raise TestFailure('auto did not say why not kvm: %r' % text)


def kvm_refused():
    if host_has_hw_kvm():
        raise Skip('this host has hardware KVM')
    status, _, err = run_command(['run', '--engine', 'kvm', *QUIET])
    if status is None or status == 0 or status >= 128 or status < 0:
        raise TestFailure('exit status %r: want a refusal' % status)
    line = one_line(err)
    if 'engine kvm:' not in line or '/dev/kvm' not in line:
        raise TestFailure('unclear refusal: %r' % line)


def hybrid_refused():
    status, _, err = run_command(['run', '--engine', 'hybrid', *QUIET])
    if status in (None, 0) or status >= 128:
        raise TestFailure('exit status %r: want a refusal' % status)
    line = one_line(err)
    if 'not implemented yet' not in line:
        raise TestFailure('unexpected message: %r' % line)


def seabios_under_kvm():
    if not host_has_hw_kvm():
        raise Skip('no hardware KVM on this host (see test_kvm_engine)')
    with tempfile.TemporaryDirectory(prefix='twoostwo-kvm-') as d:
        log = os.path.join(d, 'debug.log')
        status, _, err = run_command(['run', '--engine', 'kvm', '--timeout',
                                      '5', '--debug-log', log, *QUIET],
                                     timeout=30)
        text = open(log, 'rb').read().decode('latin-1') \
            if os.path.exists(log) else ''
        if status != 3:
            raise TestFailure('exit status %r: %s' % (status, err))
        if 'SeaBIOS' not in text or 'Booting from' not in text:
            raise TestFailure('SeaBIOS did not get to booting: %r'
                              % text[-500:])


def tests(r):
    r.run('engine_auto_says_which', auto_says_which)
    r.run('engine_kvm_refused_without_hw', kvm_refused)
    r.run('engine_hybrid_refused', hybrid_refused)
    r.run('engine_kvm_seabios', seabios_under_kvm)


if __name__ == '__main__':
    harness.main(tests)
