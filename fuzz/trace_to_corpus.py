#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Cut a bus trace (TWOOSTWO_IO_TRACE=FILE twoostwo run ...; format in
src/bus/io_trace.h) into fuzz_machine seeds: pieces of at most MAX bytes
that start and end on record boundaries, the first pieces of the boot and
then pieces spread evenly over the rest, at most COUNT of them.

usage: fuzz/trace_to_corpus.py TRACE OUTDIR PREFIX [COUNT [MAX]]
"""
import hashlib
import os
import sys

# Bytes per record by the low nibble of its first byte.
LENGTH = {0: 7, 1: 3, 2: 9, 3: 5, 6: 3}


def records(data):
    i = 0
    while i < len(data):
        n = LENGTH.get(data[i] & 15)
        if n is None or i + n > len(data):
            return
        yield data[i:i + n]
        i += n


def pieces(data, max_len):
    cur = bytearray()
    for rec in records(data):
        if len(cur) + len(rec) > max_len:
            yield bytes(cur)
            cur = bytearray()
        cur += rec
    if cur:
        yield bytes(cur)


def main():
    trace, outdir, prefix = sys.argv[1:4]
    count = int(sys.argv[4]) if len(sys.argv) > 4 else 60
    max_len = int(sys.argv[5]) if len(sys.argv) > 5 else 4096
    with open(trace, 'rb') as f:
        all_pieces = list(pieces(f.read(), max_len))
    head = all_pieces[:count // 2]
    rest = all_pieces[count // 2:]
    step = max(1, len(rest) // max(1, count - len(head)))
    chosen = head + rest[::step][:count - len(head)]
    os.makedirs(outdir, exist_ok=True)
    seen = set()
    for i, p in enumerate(chosen):
        digest = hashlib.sha1(p).hexdigest()[:12]
        if digest in seen:
            continue
        seen.add(digest)
        with open(os.path.join(outdir, '%s-%03d-%s' % (prefix, i, digest)),
                  'wb') as f:
            f.write(p)
    print('%s: %d records pieces, %d seeds written' % (
        trace, len(all_pieces), len(seen)))


if __name__ == '__main__':
    main()
