#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Pack a directory into a gzip-compressed "newc" cpio archive, the format
the Linux kernel unpacks as its initramfs.

    mkinitramfs.py DIR OUT.gz

Written here rather than with cpio(1) so that no root rights are needed for
device nodes and the result is the same bytes for the same input: owners are
root, times are zero, entries are sorted. The archive also holds the
character device /dev/console (5, 1), which the kernel opens as the stdio of
/init before /init can mount anything.

Format: the newc header is "070701" and thirteen 8-digit hex fields; the
header plus name, and the file data, are each padded to 4 bytes; the archive
ends with an entry named TRAILER!!! (Linux, Documentation/driver-api/
early-userspace/buffer-format.rst).
"""

import gzip
import os
import stat
import sys

CONSOLE = ('dev/console', stat.S_IFCHR | 0o600, 5, 1)


def pad4(n):
    return (4 - n % 4) % 4


class Archive:
    def __init__(self, out):
        self.out = out
        self.ino = 0

    def entry(self, name, mode, data=b'', rdev=(0, 0)):
        self.ino += 1
        nlink = 2 if stat.S_ISDIR(mode) else 1
        encoded = name.encode() + b'\0'
        fields = (self.ino, mode, 0, 0, nlink, 0, len(data), 0, 0,
                  rdev[0], rdev[1], len(encoded), 0)
        header = b'070701' + b''.join(b'%08X' % f for f in fields)
        self.out.write(header + encoded + b'\0' * pad4(len(header) +
                                                      len(encoded)))
        self.out.write(data + b'\0' * pad4(len(data)))

    def trailer(self):
        self.entry('TRAILER!!!', 0)


def member(archive, root, rel):
    path = os.path.join(root, rel)
    st = os.lstat(path)
    if stat.S_ISLNK(st.st_mode):
        archive.entry(rel, stat.S_IFLNK | 0o777, os.readlink(path).encode())
    elif stat.S_ISDIR(st.st_mode):
        archive.entry(rel, stat.S_IFDIR | 0o755)
    elif stat.S_ISREG(st.st_mode):
        perm = 0o755 if st.st_mode & stat.S_IXUSR else 0o644
        with open(path, 'rb') as f:
            archive.entry(rel, stat.S_IFREG | perm, f.read())
    else:
        raise SystemExit('mkinitramfs: %s: not a file, directory or link'
                         % path)


def main():
    if len(sys.argv) != 3:
        raise SystemExit('usage: mkinitramfs.py DIR OUT.gz')
    root, out = sys.argv[1], sys.argv[2]
    names = []
    for top, dirs, files in os.walk(root):
        for n in dirs + files:
            names.append(os.path.relpath(os.path.join(top, n), root))
    if os.path.dirname(CONSOLE[0]) not in names or CONSOLE[0] in names:
        raise SystemExit('mkinitramfs: %s needs an empty dev/' % root)
    # Sorted, a directory comes before everything in it.
    with open(out + '.tmp', 'wb') as raw, \
            gzip.GzipFile(fileobj=raw, mode='wb', mtime=0) as gz:
        archive = Archive(gz)
        for rel in sorted(names):
            member(archive, root, rel)
            if rel == os.path.dirname(CONSOLE[0]):
                archive.entry(CONSOLE[0], CONSOLE[1], rdev=CONSOLE[2:])
        archive.trailer()
    os.replace(out + '.tmp', out)


if __name__ == '__main__':
    main()
