#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A corpus of malformed Parallels images and bundles (issue 4, point 7):
each must be refused by `twoostwo disk info` and by `twoostwo run --hda`
with a non-zero status and exactly one line on stderr, without a crash.

The images are built here from the format facts of HARDWARE.md section 1:
a valid base image, then one field broken per case.
"""

import os
import struct
import tempfile

import harness
from harness import Skip, TestFailure, run_command

SECTOR = 512
TRACKS = 8  # 4 KiB clusters
CLUSTER = TRACKS * SECTOR
ENTRIES = 16
TOP = '{5fbaabe3-6958-40ff-92a7-860e329aab41}'
ROOT = '{00000000-0000-0000-0000-000000000000}'
OTHER = '{11111111-2222-3333-4444-555555555555}'
QUIET = ['--display', 'none', '--serial', 'none']


def need_disk_tool():
    """The QEMU stand-in (tests/guest/qemu-twoostwo) has no disk tool."""
    status, _, _ = run_command(['disk', '--help'])
    if status != 0:
        raise Skip('%s has no disk command' % harness.TWOOSTWO)


def header(magic=b'WithouFreSpacExt', version=2, tracks=TRACKS,
           entries=ENTRIES, sectors=ENTRIES * TRACKS, data_off=TRACKS,
           ext_off=0):
    cylinders = min(sectors // (16 * 32), 0xFFFFFFFF)
    return struct.pack('<16sIIIIIQIIIQ', magic, version, 16, cylinders,
                       tracks, entries, sectors, 0, data_off, 0, ext_off)


def image(bat=(1,), **fields):
    """A v2 image (entries in clusters) with the given BAT and header
    fields; the file holds the header cluster and one data cluster."""
    hdr = header(**fields)
    table = struct.pack('<%dI' % len(bat), *bat)
    data = hdr + table
    return data + bytes(2 * CLUSTER - len(data))


def image_v1(bat):
    """A v1 image: BAT entries in sectors."""
    hdr = header(magic=b'WithoutFreeSpace')
    data = hdr + struct.pack('<%dI' % len(bat), *bat)
    return data + bytes(2 * CLUSTER - len(data))


HDD_CASES = [
    ('truncated_header', image()[:40]),
    ('tracks_zero', image(tracks=0)),
    ('bad_version', image(version=3)),
    ('cluster_huge', image(tracks=1 << 31)),
    ('bat_too_small', image(entries=2)),
    ('bat_beyond_file', image(entries=1 << 30,
                              sectors=(1 << 30) * TRACKS)),
    ('size_overflow', image(sectors=1 << 63)),
    ('data_off_zero', image(data_off=0)),
    ('data_off_misaligned', image(data_off=TRACKS + 1)),
    ('data_off_beyond_file', image(data_off=TRACKS * 100)),
    ('entry_beyond_file', image(bat=(1, 100))),
    ('entry_duplicate', image(bat=(1, 1))),
    ('v1_entry_below_data', image_v1((4,))),
    ('v1_entry_misaligned', image_v1((TRACKS + 1,))),
]


def descriptor(size=2048, cyl=4, images=None, snaps=None, root=None,
               storage_end=None):
    if images is None:
        images = image_xml(TOP, 'Compressed', 'disk.hds')
    if snaps is None:
        snaps = shot(TOP, ROOT)
    body = ('<Disk_Parameters><Disk_size>%d</Disk_size>'
            '<Cylinders>%d</Cylinders><Heads>16</Heads><Sectors>32</Sectors>'
            '<Padding>0</Padding></Disk_Parameters>'
            '<StorageData><Storage><Start>0</Start><End>%d</End>'
            '<Blocksize>8</Blocksize>%s</Storage></StorageData>'
            '<Snapshots>%s</Snapshots>'
            % (size, cyl, size if storage_end is None else storage_end,
               images, snaps))
    return (root or '<Parallels_disk_image Version="1.0">%s'
            '</Parallels_disk_image>') % body


def image_xml(guid, kind, name):
    return ('<Image><GUID>%s</GUID><Type>%s</Type><File>%s</File></Image>'
            % (guid, kind, name))


def shot(guid, parent):
    return '<Shot><GUID>%s</GUID><ParentGUID>%s</ParentGUID></Shot>' % (
        guid, parent)


# Each bundle case: (name, DiskDescriptor.xml, .hds to add {name: bytes}).
HDS = image(entries=256, sectors=2048, data_off=TRACKS)
BUNDLE_CASES = [
    ('not_xml', 'this is not XML\n', {}),
    ('unterminated', descriptor()[:-10], {}),
    ('dtd', '<!DOCTYPE x [<!ENTITY a "b">]>' + descriptor(), {}),
    ('deep', '<a>' * 5000, {}),
    ('wrong_root', '<Other Version="1.0"/>', {}),
    ('bad_version', descriptor(root='<Parallels_disk_image Version="2.0">'
                                    '%s</Parallels_disk_image>'), {}),
    ('geometry', descriptor(cyl=5), {'disk.hds': HDS}),
    ('storage_end', descriptor(storage_end=1000), {'disk.hds': HDS}),
    ('missing_hds', descriptor(), {}),
    ('hds_size', descriptor(size=4096, cyl=8), {'disk.hds': HDS}),
    ('hds_corrupt', descriptor(), {'disk.hds': image(tracks=0)}),
    ('absolute_file', descriptor(images=image_xml(TOP, 'Compressed',
                                                  '/etc/passwd')), {}),
    ('dotdot_file', descriptor(images=image_xml(TOP, 'Compressed',
                                                '../disk.hds')), {}),
    ('bad_type', descriptor(images=image_xml(TOP, 'Sparse', 'disk.hds')),
     {'disk.hds': HDS}),
    ('bad_guid', descriptor(images=image_xml('{nope}', 'Compressed',
                                             'disk.hds')),
     {'disk.hds': HDS}),
    ('unknown_top', descriptor(snaps='<TopGUID>%s</TopGUID>' % OTHER +
                               shot(TOP, ROOT)), {'disk.hds': HDS}),
    ('cycle', descriptor(images=image_xml(TOP, 'Compressed', 'disk.hds') +
                         image_xml(OTHER, 'Compressed', 'b.hds'),
                         snaps=shot(TOP, OTHER) + shot(OTHER, TOP)),
     {'disk.hds': HDS, 'b.hds': HDS}),
    ('no_image_for_shot', descriptor(snaps=shot(TOP, OTHER) +
                                     shot(OTHER, ROOT)), {'disk.hds': HDS}),
]


def expect_one_line_refusal(args):
    status, _, err = run_command(args)
    if status is None:
        raise TestFailure('%s: still running after 10 s' % ' '.join(args))
    if status <= 0 or status >= 128:
        raise TestFailure('%s: exit status %s' % (' '.join(args), status))
    lines = err.decode('utf-8', 'replace').splitlines()
    if len(lines) != 1 or not lines[0].startswith('twoostwo:'):
        raise TestFailure('%s: want one "twoostwo:" line on stderr, got %r'
                          % (' '.join(args), lines[:5]))


def refused(path):
    need_disk_tool()
    expect_one_line_refusal(['disk', 'info', path])
    expect_one_line_refusal(['run', '--hda', path, *QUIET])


def accepted(path):
    """The unbroken base: refusals below are the broken field's doing."""
    need_disk_tool()
    status, out, err = run_command(['disk', 'info', path])
    if status != 0 or b'virtual size' not in out:
        raise TestFailure('base image refused: status %s, %r'
                          % (status, err[:200]))


def tests(r):
    tmp = tempfile.TemporaryDirectory(prefix='twoostwo-malformed-')
    d = tmp.name
    try:
        base = os.path.join(d, 'base.hdd')
        with open(base, 'wb') as f:
            f.write(image())
        bundle = os.path.join(d, 'base.bundle.hdd')
        os.mkdir(bundle)
        with open(os.path.join(bundle, 'DiskDescriptor.xml'), 'w') as f:
            f.write(descriptor())
        with open(os.path.join(bundle, 'disk.hds'), 'wb') as f:
            f.write(HDS)
        r.run('malformed_base_accepted', lambda: (accepted(base),
                                                  accepted(bundle)))
        for name, data in HDD_CASES:
            path = os.path.join(d, name + '.hdd')
            with open(path, 'wb') as f:
                f.write(data)
            r.run('malformed_hdd_' + name, lambda p=path: refused(p))
        for name, xml, files in BUNDLE_CASES:
            path = os.path.join(d, name + '.bundle.hdd')
            os.mkdir(path)
            with open(os.path.join(path, 'DiskDescriptor.xml'), 'w') as f:
                f.write(xml)
            for fname, data in files.items():
                with open(os.path.join(path, fname), 'wb') as f:
                    f.write(data)
            r.run('malformed_bundle_' + name, lambda p=path: refused(p))
    finally:
        tmp.cleanup()


if __name__ == '__main__':
    harness.main(tests)
