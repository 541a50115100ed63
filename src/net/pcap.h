/* SPDX-License-Identifier: MIT */
/*
 * Packet capture: Ethernet frames written to a classic pcap file (the
 * libpcap format tcpdump -r and tshark read: a 24-byte global header with
 * magic 0xa1b2c3d4, version 2.4 and link type 1 (LINKTYPE_ETHERNET), then
 * a 16-byte record header per frame: seconds, microseconds, captured and
 * original length). Each frame is flushed at once, so the file can be read
 * while the VM runs and survives a killed process.
 */
#ifndef TWOOSTWO_NET_PCAP_H
#define TWOOSTWO_NET_PCAP_H

#include "core/types.h"

struct pcap_writer;

/* Create or truncate path. Returns 0 or -errno with a reason in err. */
int pcap_open(const char *path, struct pcap_writer **out, char *err,
	      size_t errlen);
/* A write error is reported once; capturing stops, the VM does not. */
void pcap_write(struct pcap_writer *w, const u8 *frame, size_t len);
void pcap_close(struct pcap_writer *w);

#endif
