#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Bad command lines and bad files: twoostwo must refuse each with a
non-zero status and exactly one line on stderr starting "twoostwo:",
without crashing and without starting the machine."""

import os
import tempfile

import harness
from harness import Skip, TestFailure, run_command

# Keep a machine that wrongly starts quiet; no --timeout, whose exit
# status 3 would pass for a refusal: run_command kills it after 10 s.
QUIET = ['--display', 'none', '--serial', 'none']


def expect_refusal(args):
    status, _, err = run_command(['run', *args, *QUIET])
    if status is None:
        raise TestFailure('still running after 10 s: it did not refuse')
    if status < 0:
        raise TestFailure('killed by signal %d' % -status)
    if status == 0:
        raise TestFailure('exit status 0')
    if status >= 128:
        raise TestFailure('exit status %d (a crash)' % status)
    lines = err.decode('utf-8', 'replace').splitlines()
    if len(lines) != 1 or not lines[0].startswith('twoostwo:'):
        raise TestFailure('want one "twoostwo:" line on stderr, got %r'
                          % lines[:5])


def tests(r):
    tmp = tempfile.TemporaryDirectory(prefix='twoostwo-bad-')
    d = tmp.name

    def make(name, data):
        path = os.path.join(d, name)
        with open(path, 'wb') as f:
            f.write(data)
        return path

    empty = make('empty.iso', b'')
    text = make('text.iso', b'This is not an ISO 9660 image.\n' * 4096)
    locked = make('locked.iso', b'\0' * 65536)
    os.chmod(locked, 0)

    def unreadable_file():
        if os.geteuid() == 0:
            raise Skip('running as root: mode 000 does not stop reads')
        expect_refusal(['--cdrom', locked])

    cases = [
        ('bad_input_missing_cdrom',
         ['--cdrom', os.path.join(d, 'missing.iso')]),
        # A directory cannot be read as a file, even by root.
        ('bad_input_directory_cdrom', ['--cdrom', d]),
        ('bad_input_empty_cdrom', ['--cdrom', empty]),
        ('bad_input_not_iso', ['--cdrom', text]),
        ('bad_input_missing_bios', ['--bios', os.path.join(d, 'no.rom')]),
        ('bad_input_memory_zero', ['--memory', '0']),
        ('bad_input_memory_huge', ['--memory', '99999G']),
        ('bad_input_unknown_option', ['--no-such-option']),
    ]
    try:
        for name, args in cases:
            r.run(name, lambda args=args: expect_refusal(args))
        r.run('bad_input_unreadable_cdrom', unreadable_file)
    finally:
        tmp.cleanup()


if __name__ == '__main__':
    harness.main(tests)
