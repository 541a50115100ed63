// SPDX-License-Identifier: MIT
/*
 * drmmode: a mode change through the kernel's DRM/KMS interface, for the
 * guest check of bochs-drm (tests/guest/linux_display.py).
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
 * build needs no libdrm headers.
 */
#include <linux/ioctl.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Linux i386 system calls through int 0x80 (arch/x86/entry/syscalls/
 * syscall_32.tbl): the program is built with -nostdlib -static, since a
 * static glibc would add 600 KiB to the initramfs for five calls.
 */
#define SYS_exit 1
#define SYS_write 4
#define SYS_open 5
#define SYS_ioctl 54
#define SYS_nanosleep 162
#define SYS_mmap2 192

#define O_RDWR 02
#define O_CLOEXEC 02000000
#define PROT_READ 1
#define PROT_WRITE 2
#define MAP_SHARED 1
#define EINTR 4
#define EAGAIN 11
#define PAGE_SHIFT 12

static long sys3(long nr, long a, long b, long c)
{
	long ret;

	__asm__ volatile("int $0x80"
			 : "=a"(ret)
			 : "a"(nr), "b"(a), "c"(b), "d"(c)
			 : "memory");
	return ret;
}

static long sys6(long nr, long a, long b, long c, long d, long e, long f)
{
	/* EBP carries the sixth argument; the compiler may use it as the
	 * frame pointer, so it is saved and loaded by hand. */
	long args[2] = {a, f}, ret;

	__asm__ volatile("push %%ebp\n\t"
			 "push %%ebx\n\t"
			 "mov 4(%%ebx), %%ebp\n\t"
			 "mov (%%ebx), %%ebx\n\t"
			 "int $0x80\n\t"
			 "pop %%ebx\n\t"
			 "pop %%ebp"
			 : "=a"(ret)
			 : "a"(nr), "b"(args), "c"(b), "d"(c), "S"(d), "D"(e)
			 : "memory");
	return ret;
}

/* gcc may call these for structure copies and initialisers. */
void *memset(void *dst, int c, size_t n)
{
	unsigned char *d = dst;

	while (n--)
		*d++ = (unsigned char)c;
	return dst;
}

void *memcpy(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;

	while (n--)
		*d++ = *s++;
	return dst;
}

static void put(const char *text)
{
	size_t n = 0;

	while (text[n])
		n++;
	sys3(SYS_write, 2, (long)text, (long)n);
}

static void put_u32(uint32_t v)
{
	char buf[11], *p = buf + sizeof(buf) - 1;

	*p = 0;
	do
		*--p = (char)('0' + v % 10);
	while (v /= 10);
	put(p);
}

static void __attribute__((noreturn)) quit(int status)
{
	for (;;)
		sys3(SYS_exit, status, 0, 0);
}

static uint32_t parse_u32(const char *s)
{
	uint32_t v = 0;

	while (*s >= '0' && *s <= '9')
		v = v * 10 + (uint32_t)(*s++ - '0');
	return v;
}

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

static void __attribute__((noreturn)) die(const char *what, long err)
{
	put("drmmode: ");
	put(what);
	put(" failed: errno ");
	put_u32((uint32_t)-err);
	put("\n");
	quit(1);
}

static void drm(int fd, unsigned long request, void *arg, const char *what)
{
	long ret;

	do
		ret = sys3(SYS_ioctl, fd, (long)request, (long)arg);
	while (ret == -EINTR || ret == -EAGAIN);
	if (ret < 0)
		die(what, ret);
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
	put("drmmode: no such mode among:");
	for (i = 0; i < c.count_modes && i < MAX_MODES; i++) {
		modes[i].name[sizeof(modes[i].name) - 1] = 0;
		put(" ");
		put(modes[i].name);
	}
	put("\n");
	quit(1);
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
	long addr;

	drm(fd, DRM_IOCTL_MODE_CREATE_DUMB, &dumb, "CREATE_DUMB");
	map.handle = dumb.handle;
	drm(fd, DRM_IOCTL_MODE_MAP_DUMB, &map, "MAP_DUMB");
	/* mmap2 takes the offset in pages: DRM's fake offsets are. */
	addr = sys6(SYS_mmap2, 0, (long)dumb.size, PROT_READ | PROT_WRITE,
		    MAP_SHARED, fd, (long)(map.offset >> PAGE_SHIFT));
	if (addr < 0 && addr > -4096)
		die("mmap", addr);
	pixels = (uint8_t *)addr;
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

static int run(int argc, char **argv)
{
	uint32_t crtcs[MAX_IDS], conns[MAX_IDS], width, height;
	struct drm_mode_card_res res = {0};
	struct drm_mode_crtc set = {0};
	struct timespec32 {
		long sec, nsec;
	} hold = {0, 0};
	long fd;

	if (argc != 4) {
		put("usage: drmmode WIDTH HEIGHT SECONDS\n");
		return 2;
	}
	width = parse_u32(argv[1]);
	height = parse_u32(argv[2]);
	hold.sec = (long)parse_u32(argv[3]);
	fd = sys3(SYS_open, (long)"/dev/dri/card0", O_RDWR | O_CLOEXEC, 0);
	if (fd < 0)
		die("open /dev/dri/card0", fd);
	drm((int)fd, DRM_IOCTL_MODE_GETRESOURCES, &res, "GETRESOURCES");
	if (!res.count_crtcs || !res.count_connectors) {
		put("drmmode: no CRTC or connector\n");
		return 1;
	}
	res.count_fbs = res.count_encoders = 0;
	if (res.count_crtcs > MAX_IDS)
		res.count_crtcs = MAX_IDS;
	if (res.count_connectors > MAX_IDS)
		res.count_connectors = MAX_IDS;
	res.crtc_id_ptr = (uintptr_t)crtcs;
	res.connector_id_ptr = (uintptr_t)conns;
	drm((int)fd, DRM_IOCTL_MODE_GETRESOURCES, &res, "GETRESOURCES");

	set.mode = find_mode((int)fd, conns[0], width, height);
	set.mode_valid = 1;
	set.crtc_id = crtcs[0];
	set.fb_id = make_fb((int)fd, width, height);
	set.set_connectors_ptr = (uintptr_t)&conns[0];
	set.count_connectors = 1;
	drm((int)fd, DRM_IOCTL_MODE_SETCRTC, &set, "SETCRTC");
	put("drmmode: ");
	put_u32(width);
	put("x");
	put_u32(height);
	put(" shown\n");
	sys3(SYS_nanosleep, (long)&hold, 0, 0);
	return 0;
}

/*
 * The entry point: the kernel starts a static program with argc at the
 * stack pointer and argv after it (the i386 ELF ABI's process stack).
 */
void __attribute__((used)) start_c(long *sp)
{
	quit(run((int)sp[0], (char **)(sp + 1)));
}

__asm__(".globl _start\n"
	"_start:\n\t"
	"xor %ebp, %ebp\n\t"
	"mov %esp, %eax\n\t"
	"and $-16, %esp\n\t"
	"sub $12, %esp\n\t"
	"push %eax\n\t"
	"call start_c\n\t"
	"hlt\n");
