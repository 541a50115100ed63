# SPDX-License-Identifier: MIT
"""Guest test harness: runs `twoostwo run` in a pseudo-terminal and watches
what the guest shows (the screen dump), logs (the port 0x402 debug log),
sends to COM1 (the serial file) and what twoostwo says (stderr). With
serial='stdio', COM1 is the pseudo-terminal instead, so a test can also
type to the guest's serial port (SerialShell drives a shell there).

Environment:
  TWOOSTWO                 the binary under test (default build/twoostwo)
  TWOOSTWO_GUESTS          guest images (default build/guests)
  TWOOSTWO_TIMEOUT_SCALE   multiplies every timeout (sanitizer builds)
  TWOOSTWO_GUEST_SKIP      test names to skip, separated by spaces
  TWOOSTWO_KEEP_TEST_FILES keep each run's folder (screen, logs) if set
"""

import fcntl
import os
import pathlib
import pty
import re
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
import traceback

REPO = pathlib.Path(__file__).resolve().parents[2]
TWOOSTWO = os.path.abspath(os.environ.get('TWOOSTWO',
                                          REPO / 'build' / 'twoostwo'))
GUESTS = pathlib.Path(os.environ.get('TWOOSTWO_GUESTS',
                                     REPO / 'build' / 'guests'))
SCALE = float(os.environ.get('TWOOSTWO_TIMEOUT_SCALE', '1'))
SKIP = set(os.environ.get('TWOOSTWO_GUEST_SKIP', '').split())
KEEP = bool(os.environ.get('TWOOSTWO_KEEP_TEST_FILES'))

POLL_S = 0.05
STOP_GRACE_S = 5
TERM_ROWS, TERM_COLS = 30, 100
SANITIZER_SIGNS = (b'AddressSanitizer', b'LeakSanitizer',
                   b'UndefinedBehaviorSanitizer', b'runtime error:')


class TestFailure(Exception):
    pass


class Skip(Exception):
    pass


def scaled(seconds):
    return seconds * SCALE


def guest(name):
    path = GUESTS / name
    if not path.is_file():
        raise TestFailure('missing guest image %s: run '
                          'scripts/build-guests.sh' % path)
    return str(path)


def iso_file(iso, path):
    """The content of file path inside the ISO image iso, extracted on the
    host with xorriso."""
    with tempfile.TemporaryDirectory(prefix='twoostwo-iso-') as tmp:
        out = os.path.join(tmp, os.path.basename(path))
        try:
            proc = subprocess.run(['xorriso', '-osirrox', 'on', '-indev',
                                   iso, '-extract', path, out],
                                  stdin=subprocess.DEVNULL,
                                  stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, timeout=60)
        except (OSError, subprocess.TimeoutExpired) as e:
            raise TestFailure('xorriso: %s' % e)
        if proc.returncode != 0 or not os.path.isfile(out):
            raise TestFailure('xorriso cannot extract %s: %s' % (
                path, proc.stdout.decode('utf-8', 'replace')[-500:]))
        with open(out, 'rb') as f:
            return f.read()


def _read(path):
    try:
        with open(path, 'rb') as f:
            return f.read()
    except OSError:
        return b''


def _tail(data, lines):
    text = data.decode('utf-8', 'replace')
    return '\n'.join(text.splitlines()[-lines:])


def _as_bytes(text):
    return text if isinstance(text, bytes) else text.encode('utf-8')


class Vm:
    """One `twoostwo run` with its own folder for the files it writes.

    serial: True for COM1 in the serial file; 'stdio' for COM1 on the
    pseudo-terminal (use with display='none'): what the guest sends is
    still copied to the serial file, and send_serial types to it.
    """

    started = []  # every Vm, so a failing test can show the ones it made

    def __init__(self, *args, display='none', serial=True):
        self.dir = tempfile.mkdtemp(prefix='twoostwo-guest-')
        self.screen_path = os.path.join(self.dir, 'screen.txt')
        self.debug_log_path = os.path.join(self.dir, 'debug.log')
        self.serial_path = os.path.join(self.dir, 'serial.txt')
        self.stderr_path = os.path.join(self.dir, 'stderr.txt')
        self.killed = False
        self.closed = False
        self.proc = None
        self._reader = None
        self._serial_copy = serial == 'stdio'
        self.cmd = [TWOOSTWO, 'run', *args, '--display', display,
                    '--screen-dump', self.screen_path,
                    '--debug-log', self.debug_log_path,
                    # a backstop should the harness itself die
                    '--timeout', str(int(scaled(900)))]
        if serial == 'stdio':
            self.cmd += ['--serial', 'stdio']
        elif serial:
            self.cmd += ['--serial', 'file:' + self.serial_path]
        self.master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ,
                    struct.pack('HHHH', TERM_ROWS, TERM_COLS, 0, 0))
        self._terminal = bytearray()
        self._stderr = open(self.stderr_path, 'wb')
        Vm.started.append(self)
        try:
            self.proc = subprocess.Popen(self.cmd, stdin=slave, stdout=slave,
                                         stderr=self._stderr,
                                         start_new_session=True)
        except OSError as e:
            raise TestFailure('cannot start %s: %s' % (TWOOSTWO, e))
        finally:
            os.close(slave)
        # The terminal display writes all the time: drain it so that it
        # never blocks, keeping the end for the diagnostics.
        self._reader = threading.Thread(target=self._drain, daemon=True)
        self._reader.start()

    def _drain(self):
        if not self._serial_copy:
            self._drain_into(None)
            return
        with open(self.serial_path, 'wb') as copy:
            self._drain_into(copy)

    def _drain_into(self, copy):
        while True:
            try:
                data = os.read(self.master, 65536)
            except OSError:
                return
            if not data:
                return
            if copy:
                copy.write(data)
                copy.flush()
            self._terminal += data
            del self._terminal[:-16384]

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def screen(self):
        return _read(self.screen_path).decode('utf-8', 'replace')

    def debug_log(self):
        return _read(self.debug_log_path)

    def serial(self):
        return _read(self.serial_path)

    def stderr(self):
        self._stderr.flush()
        return _read(self.stderr_path)

    def wait_until(self, predicate, timeout, what):
        deadline = time.monotonic() + scaled(timeout)
        while True:
            if predicate():
                return
            if not self.alive():
                rc = self.proc.returncode if self.proc else None
                raise TestFailure('%s: twoostwo exited (status %s)'
                                  % (what, rc))
            if time.monotonic() > deadline:
                raise TestFailure('%s: not within %g s'
                                  % (what, scaled(timeout)))
            time.sleep(POLL_S)

    def wait_for_screen(self, text, timeout):
        self.wait_until(lambda: text in self.screen(), timeout,
                        'screen to show %r' % text)

    def wait_for_file_text(self, path, text, timeout, count=1):
        needle = _as_bytes(text)
        self.wait_until(lambda: _read(path).count(needle) >= count, timeout,
                        '%s to hold %r%s' % (os.path.basename(path), text,
                                             ' %d times' % count
                                             if count > 1 else ''))

    def type_keys(self, text, delay=0.1):
        """Type on the terminal display, one key at a time."""
        for b in _as_bytes(text):
            os.write(self.master, bytes([b]))
            time.sleep(delay)

    def send_serial(self, text):
        """Send to COM1 (serial='stdio'), all at once."""
        data = _as_bytes(text)
        while data:
            data = data[os.write(self.master, data):]

    def wait_exit(self, timeout):
        """The exit status once twoostwo ends by itself; None if it still
        runs after timeout seconds."""
        try:
            return self.proc.wait(scaled(timeout))
        except subprocess.TimeoutExpired:
            return None

    def stop(self):
        """SIGTERM, then SIGKILL after a grace period; the exit status."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(scaled(STOP_GRACE_S))
            except subprocess.TimeoutExpired:
                self.killed = True
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        return self.proc.returncode

    def stop_cleanly(self):
        """Stop, and fail unless twoostwo left as a healthy process does."""
        rc = self.stop()
        if self.killed:
            raise TestFailure('did not exit within %g s of SIGTERM'
                              % scaled(STOP_GRACE_S))
        if rc is not None and rc != -signal.SIGTERM and \
                not 0 <= rc < 128:
            raise TestFailure('exit status %d on SIGTERM (a crash)' % rc)
        self.check_no_sanitizer_report()

    def check_no_sanitizer_report(self):
        err = self.stderr()
        for sign in SANITIZER_SIGNS:
            if sign in err:
                raise TestFailure('sanitizer report on stderr (%s)'
                                  % sign.decode())

    def diagnostics(self):
        out = ['--- command: %s' % ' '.join(self.cmd)]
        if self.proc is not None:
            out.append('--- status: %s' % ('running' if self.alive()
                                           else self.proc.returncode))
        out.append('--- last screen dump:')
        out.append(self.screen().rstrip() or '(none)')
        out.append('--- debug log (end):')
        out.append(_tail(self.debug_log(), 15) or '(empty)')
        out.append('--- serial (end):')
        out.append(_tail(self.serial(), 10) or '(empty)')
        out.append('--- stderr (end):')
        out.append(_tail(self.stderr(), 30) or '(empty)')
        return '\n'.join(out)

    def close(self):
        if self.closed:
            return
        self.closed = True
        self.stop()
        if self._reader:
            self._reader.join(1)
        os.close(self.master)
        self._stderr.close()
        if not KEEP:
            shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


# Terminal control sequences (ESC [ ... final byte, or ESC and one byte)
# and carriage returns, which a shell's line editor sends around its
# prompt and the terminal adds before each newline.
_CONTROL = re.compile(r'\x1b(?:\[[0-?]*[ -/]*[@-~]|[@-Z\\-_])|\r')


class SerialShell:
    """A shell on COM1 of a Vm started with serial='stdio'.

    It reads what the guest sent as text without terminal control
    sequences; each expect starts where the previous match ended.
    """

    def __init__(self, vm, prompt):
        self.vm = vm
        self.prompt = prompt
        self.pos = 0
        self._commands = 0

    def text(self):
        # As the output grows, decoding and removing the sequences change
        # only its end (a sequence still arriving), so offsets before that
        # stay valid.
        raw = self.vm.serial().decode('utf-8', 'replace')
        return _CONTROL.sub('', raw)

    def expect(self, pattern, timeout, what=None):
        """Wait for the regular expression pattern; its match object."""
        regex = re.compile(pattern, re.S)
        found = []

        def seen():
            m = regex.search(self.text(), self.pos)
            if m:
                found.append(m)
            return m is not None

        self.vm.wait_until(seen, timeout, what or
                           'serial port to show /%s/' % pattern)
        self.pos = found[0].end()
        return found[0]

    def expect_text(self, text, timeout):
        return self.expect(re.escape(text), timeout,
                           'serial port to show %r' % text)

    def send(self, line):
        self.vm.send_serial(line + '\n')

    def run(self, command, timeout):
        """Run command at the prompt and wait for the next prompt; its
        output (without the echoed command line) and exit status."""
        self._commands += 1
        begin = 10 * self._commands + 1
        end = begin + 1
        # The terminal echoes the line as typed; markers that the shell
        # computes appear only in what the commands print.
        self.send('echo B$((%d))B; %s; echo E$((%d))E$?'
                  % (begin, command, end))
        m = self.expect(r'B%dB\n(.*?)E%dE(\d+)\n' % (begin, end), timeout,
                        'output of %r' % command)
        self.expect_text(self.prompt, timeout)
        return m.group(1), int(m.group(2))


def run_command(args, timeout=10):
    """Run twoostwo to completion (stdin closed); (status, stdout, stderr).

    A status of None means it did not exit within the timeout and was
    killed.
    """
    try:
        proc = subprocess.Popen([TWOOSTWO, *args], stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE,
                                start_new_session=True)
    except OSError as e:
        raise TestFailure('cannot start %s: %s' % (TWOOSTWO, e))
    try:
        out, err = proc.communicate(timeout=scaled(timeout))
        return proc.returncode, out, err
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        return None, out, err


class Runner:
    """Runs named checks; prints `ok NAME`, `FAIL NAME: why` or
    `skip NAME: why` for each."""

    def __init__(self):
        self.failed = 0

    def run(self, name, check, *vms):
        if name in SKIP:
            print('skip %s: in TWOOSTWO_GUEST_SKIP' % name, flush=True)
            return
        first_new = len(Vm.started)
        try:
            check()
            print('ok %s' % name, flush=True)
        except Skip as e:
            print('skip %s: %s' % (name, e), flush=True)
        except Exception as e:  # any error in a check fails that check
            self.failed += 1
            reason = str(e) if isinstance(e, TestFailure) else \
                traceback.format_exc().rstrip()
            print('FAIL %s: %s' % (name, reason), flush=True)
            shown = list(vms) + [v for v in Vm.started[first_new:]
                                 if v not in vms]
            for vm in shown:
                print(vm.diagnostics(), flush=True)

    def status(self):
        return 1 if self.failed else 0


def main(tests):
    """Run a test file's checks: tests(runner) calls runner.run."""
    runner = Runner()
    try:
        tests(runner)
    finally:
        for vm in Vm.started:
            vm.close()
    sys.exit(runner.status())
