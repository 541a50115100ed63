// SPDX-License-Identifier: MIT
/*
 * pcap capture files (net/pcap.h). The format is the one described in
 * the libpcap "pcap-savefile" manual page: host byte order, recognised by
 * readers from the magic number.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "net/net.h"
#include "net/pcap.h"

#define PCAP_MAGIC 0xa1b2c3d4u
#define PCAP_VERSION_MAJOR 2
#define PCAP_VERSION_MINOR 4
#define PCAP_SNAPLEN 65535
#define PCAP_LINKTYPE_ETHERNET 1

struct pcap_writer {
	int fd;
	bool failed;
	char *path;
};

struct pcap_global_header {
	u32 magic;
	u16 major, minor;
	s32 thiszone;
	u32 sigfigs, snaplen, linktype;
};

struct pcap_record_header {
	u32 ts_sec, ts_usec, incl_len, orig_len;
};

static int pcap_write_all(int fd, const void *buf, size_t len)
{
	const u8 *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int pcap_open(const char *path, struct pcap_writer **out, char *err,
	      size_t errlen)
{
	struct pcap_global_header gh = {
		.magic = PCAP_MAGIC,
		.major = PCAP_VERSION_MAJOR,
		.minor = PCAP_VERSION_MINOR,
		.snaplen = PCAP_SNAPLEN,
		.linktype = PCAP_LINKTYPE_ETHERNET,
	};
	struct pcap_writer *w = calloc(1, sizeof(*w));
	int ret;

	if (!w || !(w->path = strdup(path))) {
		free(w);
		snprintf(err, errlen, "capture %s: out of memory", path);
		return -ENOMEM;
	}
	w->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (w->fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "capture %s: %s", path, strerror(-ret));
		free(w->path);
		free(w);
		return ret;
	}
	ret = pcap_write_all(w->fd, &gh, sizeof(gh));
	if (ret) {
		snprintf(err, errlen, "capture %s: %s", path, strerror(-ret));
		pcap_close(w);
		return ret;
	}
	*out = w;
	return 0;
}

void pcap_write(struct pcap_writer *w, const u8 *frame, size_t len)
{
	u8 buf[sizeof(struct pcap_record_header) + NET_MAX_FRAME];
	struct pcap_record_header rh;
	struct timespec ts;
	int ret;

	if (!w || w->failed || len > NET_MAX_FRAME)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	rh = (struct pcap_record_header){
		.ts_sec = (u32)ts.tv_sec,
		.ts_usec = (u32)(ts.tv_nsec / 1000),
		.incl_len = (u32)len,
		.orig_len = (u32)len,
	};
	/* One write per record: a reader never sees half a header. */
	memcpy(buf, &rh, sizeof(rh));
	memcpy(buf + sizeof(rh), frame, len);
	ret = pcap_write_all(w->fd, buf, sizeof(rh) + len);
	if (ret) {
		w->failed = true;
		fprintf(stderr, "twoostwo: capture %s: %s: capture stopped\n",
			w->path, strerror(-ret));
	}
}

void pcap_close(struct pcap_writer *w)
{
	if (!w)
		return;
	if (w->fd >= 0)
		close(w->fd);
	free(w->path);
	free(w);
}
