// SPDX-License-Identifier: MIT
/*
 * drmmode: a mode change through the kernel's DRM/KMS interface, for the
 * guest check of bochs-drm (tests/guest/test_vnc.py).
 *
 *   drmmode WIDTH HEIGHT SECONDS
 *
 * Opens /dev/dri/card0 (the first opener becomes DRM master: fbcon is an
 * in-kernel client, not a master), picks the connector mode WIDTHxHEIGHT,
 * makes a 32 bpp dumb buffer, fills it with the pattern below, shows it
 * with SETCRTC and prints "drmmode: WIDTHxHEIGHT shown", holds it for
 * SECONDS and exits; on the last close the kernel gives the screen back
 * to fbcon (drm_fb_helper_lastclose), in its own mode.
 *
 * The pattern, in XRGB8888, at pixel (x, y):
 *   red = x & 0xff, green = y & 0xff,
 *   blue = 0xc0 when ((x >> 3) ^ (y >> 3)) & 1, else 0x30,
 * which the test computes on its own and compares with a screendump.
 *
 * The DRM structures and ioctl numbers are the kernel's user-space ABI
 * (include/uapi/drm/drm.h and drm_mode.h); they are declared here so the
 * build needs no libdrm headers. Static (gcc -m32 -static): the initramfs
 * has no libc.
 */
#define _FILE_OFFSET_BITS 64
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

struct drm_mode_modeinfo {
	uint32_t clock;
	uint16_t hdisplay, hsync_start, hsync_end, htotal, hskew;
	uint16_t vdisplay, vsync_start, vsync_end, vtotal, vscan;
	uint32_t vrefresh;
	uint32_t flags;
	uint32_t type;
	char name[32];
};

struct drm_mode_card_res {
	uint64_t fb_id_ptr, crtc_id_ptr, connector_id_ptr, encoder_id_ptr;
	uint32_t count_fbs, count_crtcs, count_connectors, count_encoders;
	uint32_t min_width, max_width, min_height, max_height;
};

struct drm_mode_get_connector {
	uint64_t encoders_ptr, modes_ptr, props_ptr, prop_values_ptr;
	uint32_t count_modes, count_props, count_encoders;
	uint32_t encoder_id, connector_id, connector_type, connector_type_id;
	uint32_t connection, mm_width, mm_height, subpixel, pad;
};

struct drm_mode_create_dumb {
	uint32_t height, width, bpp, flags, handle, pitch;
	uint64_t size;
};

struct drm_mode_map_dumb {
	uint32_t handle, pad;
	uint64_t offset;
};

struct drm_mode_fb_cmd {
	uint32_t fb_id, width, height, pitch, bpp, depth, handle;
};

struct drm_mode_crtc {
	uint64_t set_connectors_ptr;
	uint32_t count_connectors;
	uint32_t crtc_id, fb_id, x, y, gamma_size, mode_valid;
	struct drm_mode_modeinfo mode;
};

#define DRM_IOCTL_MODE_GETRESOURCES _IOWR('d', 0xa0, struct drm_mode_card_res)
#define DRM_IOCTL_MODE_SETCRTC _IOWR('d', 0xa2, struct drm_mode_crtc)
#define DRM_IOCTL_MODE_GETCONNECTOR                                            \
	_IOWR('d', 0xa7, struct drm_mode_get_connector)
#define DRM_IOCTL_MODE_ADDFB _IOWR('d', 0xae, struct drm_mode_fb_cmd)
#define DRM_IOCTL_MODE_CREATE_DUMB _IOWR('d', 0xb2, struct drm_mode_create_dumb)
#define DRM_IOCTL_MODE_MAP_DUMB _IOWR('d', 0xb3, struct drm_mode_map_dumb)

#define MAX_IDS 16
#define MAX_MODES 64

static void die(const char *what)
{
	fprintf(stderr, "drmmode: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void drm(int fd, unsigned long request, void *arg, const char *what)
{
	while (ioctl(fd, request, arg) < 0) {
		if (errno != EINTR && errno != EAGAIN)
			die(what);
	}
}

static uint32_t pattern(uint32_t x, uint32_t y)
{
	uint32_t blue = (((x >> 3) ^ (y >> 3)) & 1) ? 0xc0 : 0x30;

	return (x & 0xff) << 16 | (y & 0xff) << 8 | blue;
}

/* The mode width x height of connector conn_id. */
static struct drm_mode_modeinfo find_mode(int fd, uint32_t conn_id,
					  uint32_t width, uint32_t height)
{
	static struct drm_mode_modeinfo modes[MAX_MODES];
	struct drm_mode_get_connector c = {0};
	uint32_t i;

	c.connector_id = conn_id;
	drm(fd, DRM_IOCTL_MODE_GETCONNECTOR, &c, "GETCONNECTOR");
	if (c.count_modes > MAX_MODES)
		c.count_modes = MAX_MODES;
	c.modes_ptr = (uintptr_t)modes;
	c.count_props = 0;
	c.count_encoders = 0;
	drm(fd, DRM_IOCTL_MODE_GETCONNECTOR, &c, "GETCONNECTOR");
	for (i = 0; i < c.count_modes && i < MAX_MODES; i++) {
		if (modes[i].hdisplay == width && modes[i].vdisplay == height)
			return modes[i];
	}
	fprintf(stderr, "drmmode: no %ux%u among %u modes:", width, height,
		c.count_modes);
	for (i = 0; i < c.count_modes && i < MAX_MODES; i++)
		fprintf(stderr, " %s", modes[i].name);
	fprintf(stderr, "\n");
	exit(1);
}

/* A 32 bpp dumb buffer filled with the pattern, as a framebuffer id. */
static uint32_t make_fb(int fd, uint32_t width, uint32_t height)
{
	struct drm_mode_create_dumb dumb = {
		.width = width, .height = height, .bpp = 32};
	struct drm_mode_map_dumb map = {0};
	struct drm_mode_fb_cmd fb = {0};
	uint32_t x, y;
	uint8_t *pixels;

	drm(fd, DRM_IOCTL_MODE_CREATE_DUMB, &dumb, "CREATE_DUMB");
	map.handle = dumb.handle;
	drm(fd, DRM_IOCTL_MODE_MAP_DUMB, &map, "MAP_DUMB");
	pixels = mmap(NULL, dumb.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		      (off_t)map.offset);
	if (pixels == MAP_FAILED)
		die("mmap");
	for (y = 0; y < height; y++) {
		uint32_t *row = (uint32_t *)(pixels + (size_t)y * dumb.pitch);

		for (x = 0; x < width; x++)
			row[x] = pattern(x, y);
	}
	fb.width = width;
	fb.height = height;
	fb.pitch = dumb.pitch;
	fb.bpp = 32;
	fb.depth = 24;
	fb.handle = dumb.handle;
	drm(fd, DRM_IOCTL_MODE_ADDFB, &fb, "ADDFB");
	return fb.fb_id;
}

int main(int argc, char **argv)
{
	uint32_t crtcs[MAX_IDS], conns[MAX_IDS], width, height;
	struct drm_mode_card_res res = {0};
	struct drm_mode_crtc set = {0};
	int fd;

	if (argc != 4) {
		fprintf(stderr, "usage: drmmode WIDTH HEIGHT SECONDS\n");
		return 2;
	}
	width = (uint32_t)strtoul(argv[1], NULL, 0);
	height = (uint32_t)strtoul(argv[2], NULL, 0);
	fd = open("/dev/dri/card0", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		die("/dev/dri/card0");
	drm(fd, DRM_IOCTL_MODE_GETRESOURCES, &res, "GETRESOURCES");
	if (!res.count_crtcs || !res.count_connectors) {
		fprintf(stderr, "drmmode: no CRTC or connector\n");
		return 1;
	}
	res.count_fbs = res.count_encoders = 0;
	if (res.count_crtcs > MAX_IDS)
		res.count_crtcs = MAX_IDS;
	if (res.count_connectors > MAX_IDS)
		res.count_connectors = MAX_IDS;
	res.crtc_id_ptr = (uintptr_t)crtcs;
	res.connector_id_ptr = (uintptr_t)conns;
	drm(fd, DRM_IOCTL_MODE_GETRESOURCES, &res, "GETRESOURCES");

	set.mode = find_mode(fd, conns[0], width, height);
	set.mode_valid = 1;
	set.crtc_id = crtcs[0];
	set.fb_id = make_fb(fd, width, height);
	set.set_connectors_ptr = (uintptr_t)&conns[0];
	set.count_connectors = 1;
	drm(fd, DRM_IOCTL_MODE_SETCRTC, &set, "SETCRTC");
	printf("drmmode: %ux%u shown\n", width, height);
	fflush(stdout);
	sleep((unsigned)atoi(argv[3]));
	return 0;
}
