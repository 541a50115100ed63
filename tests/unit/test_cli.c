// SPDX-License-Identifier: MIT
/*
 * `twoostwo run` option parsing: sizes, choices, and the one-line errors a
 * user sees for bad input.
 */
#include <stdarg.h>

#include "cli/cli.h"
#include "core/clock.h"
#include "unit.h"

#define MIB (1ull << 20)

static int parse(struct run_args *a, char *err, size_t errlen, ...)
{
	char *argv[32];
	int argc = 0;
	va_list ap;
	char *s;

	argv[argc++] = "run";
	va_start(ap, errlen);
	while ((s = va_arg(ap, char *)) && argc < 31)
		argv[argc++] = s;
	va_end(ap);
	argv[argc] = NULL;
	err[0] = 0;
	return cli_run_parse(argc, argv, a, err, errlen);
}

static void test_sizes(void)
{
	u64 b;

	CHECK(cli_parse_size("64M", &b) == 0);
	CHECK_EQ(b, 64 * MIB);
	CHECK(cli_parse_size("1G", &b) == 0);
	CHECK_EQ(b, 1024 * MIB);
	CHECK(cli_parse_size("1g", &b) == 0);
	CHECK_EQ(b, 1024 * MIB);
	CHECK(cli_parse_size("512", &b) == 0);
	CHECK_EQ(b, 512 * MIB);
	CHECK(cli_parse_size("65536K", &b) == 0);
	CHECK_EQ(b, 64 * MIB);
	CHECK(cli_parse_size("", &b) < 0);
	CHECK(cli_parse_size("M", &b) < 0);
	CHECK(cli_parse_size("-1", &b) < 0);
	CHECK(cli_parse_size("+5", &b) < 0);
	CHECK(cli_parse_size("12X", &b) < 0);
	CHECK(cli_parse_size("12MB", &b) < 0);
	CHECK(cli_parse_size("99999999999999999999", &b) < 0);
	CHECK(cli_parse_size("99999999999G", &b) < 0);
}

static void test_seconds(void)
{
	u64 ns;

	CHECK(cli_parse_seconds("30", &ns) == 0);
	CHECK_EQ(ns, 30 * NSEC_PER_SEC);
	CHECK(cli_parse_seconds("2.5", &ns) == 0);
	CHECK_EQ(ns, 2500 * NSEC_PER_MSEC);
	CHECK(cli_parse_seconds("-1", &ns) < 0);
	CHECK(cli_parse_seconds("nan", &ns) < 0);
	CHECK(cli_parse_seconds("inf", &ns) < 0);
	CHECK(cli_parse_seconds("1e300", &ns) < 0);
	CHECK(cli_parse_seconds("5s", &ns) < 0);
}

static void test_defaults(void)
{
	struct run_args a;
	char err[256];

	CHECK_EQ(parse(&a, err, sizeof(err), NULL), 0);
	CHECK_EQ(a.cfg.ram_size, PC_DEFAULT_RAM);
	CHECK_EQ(a.cfg.boot, PC_BOOT_DEFAULT);
	CHECK(!a.cfg.cdrom_path && !a.cfg.disk[PC_HDA].path &&
	      !a.cfg.bios_path);
	CHECK(!a.display_set && !a.serial_set && !a.help);
	CHECK_EQ(a.cfg.timeout_ns, 0);
	CHECK_STR(a.cfg.engine, "soft");
}

static void test_all_options(void)
{
	struct run_args a;
	char err[256];

	CHECK_EQ(parse(&a, err, sizeof(err), "--cdrom", "x.iso", "--hda",
		       "d.img", "--memory", "256M", "--boot", "disk", "--bios",
		       "b.bin", "--serial", "file:s.log", "--debug-log",
		       "dbg.log", "--display", "none", "--screen-dump",
		       "scr.txt", "--timeout", "5", "--exit-when-screen",
		       "login:", "--engine=soft", NULL),
		 0);
	CHECK_STR(err, "");
	CHECK_STR(a.cfg.cdrom_path, "x.iso");
	CHECK_STR(a.cfg.disk[PC_HDA].path, "d.img");
	CHECK_EQ(a.cfg.ram_size, 256 * MIB);
	CHECK_EQ(a.cfg.boot, PC_BOOT_DISK);
	CHECK_STR(a.cfg.bios_path, "b.bin");
	CHECK_STR(a.cfg.serial_spec, "file:s.log");
	CHECK(a.serial_set);
	CHECK_STR(a.cfg.debug_log_path, "dbg.log");
	CHECK_EQ(a.cfg.display, PC_DISPLAY_NONE);
	CHECK(a.display_set);
	CHECK_STR(a.cfg.screen_dump_path, "scr.txt");
	CHECK_EQ(a.cfg.timeout_ns, 5 * NSEC_PER_SEC);
	CHECK_STR(a.cfg.exit_when_screen, "login:");
	CHECK_EQ(parse(&a, err, sizeof(err), "--boot", "cd", "--display",
		       "terminal", NULL),
		 0);
	CHECK_EQ(a.cfg.boot, PC_BOOT_CDROM);
	CHECK_EQ(a.cfg.display, PC_DISPLAY_TERMINAL);
	CHECK_EQ(parse(&a, err, sizeof(err), "--help", NULL), 0);
	CHECK(a.help);
}

static void test_usage_errors(void)
{
	struct run_args a;
	char err[256];

	CHECK_EQ(parse(&a, err, sizeof(err), "--foo", NULL), CLI_EXIT_USAGE);
	CHECK_STR(err, "unknown option '--foo' (try 'twoostwo run --help')");
	CHECK_EQ(parse(&a, err, sizeof(err), "--foo=3", NULL), CLI_EXIT_USAGE);
	CHECK_STR(err, "unknown option '--foo' (try 'twoostwo run --help')");
	CHECK_EQ(parse(&a, err, sizeof(err), "-x", NULL), CLI_EXIT_USAGE);
	CHECK_STR(err, "unknown option '-x' (try 'twoostwo run --help')");
	CHECK_EQ(parse(&a, err, sizeof(err), "--cdrom", NULL), CLI_EXIT_USAGE);
	CHECK_STR(err,
		  "option '--cdrom' needs a value (try 'twoostwo run --help')");
	CHECK_EQ(parse(&a, err, sizeof(err), "stray", NULL), CLI_EXIT_USAGE);
	CHECK(strstr(err, "'stray'"));
	CHECK_EQ(parse(&a, err, sizeof(err), "--memory", "lots", NULL),
		 CLI_EXIT_USAGE);
	CHECK(strstr(err, "'lots'"));
	CHECK_EQ(parse(&a, err, sizeof(err), "--memory", "1M", NULL),
		 CLI_EXIT_USAGE);
	CHECK(strstr(err, "out of range"));
	CHECK_EQ(parse(&a, err, sizeof(err), "--memory", "4G", NULL),
		 CLI_EXIT_USAGE);
	CHECK_EQ(parse(&a, err, sizeof(err), "--memory", "3000K", NULL),
		 CLI_EXIT_USAGE);
	CHECK_EQ(parse(&a, err, sizeof(err), "--memory", "3G", NULL), 0);
	CHECK_EQ(parse(&a, err, sizeof(err), "--memory", "2M", NULL), 0);
	CHECK_EQ(parse(&a, err, sizeof(err), "--vram", "3M", NULL),
		 CLI_EXIT_USAGE);
	CHECK(strstr(err, "'3M'"));
	CHECK_EQ(parse(&a, err, sizeof(err), "--vram", "512M", NULL),
		 CLI_EXIT_USAGE);
	CHECK_EQ(parse(&a, err, sizeof(err), "--vram", "512K", NULL),
		 CLI_EXIT_USAGE);
	CHECK_EQ(parse(&a, err, sizeof(err), "--vram", "32M", NULL), 0);
	CHECK_EQ(a.cfg.vram_size, 32u << 20);
	CHECK_EQ(parse(&a, err, sizeof(err), "--boot", "floppy", NULL),
		 CLI_EXIT_USAGE);
	CHECK_STR(err, "invalid value 'floppy' for --boot (try 'twoostwo run "
		       "--help')");
	CHECK_EQ(parse(&a, err, sizeof(err), "--display", "vnc", NULL),
		 CLI_EXIT_USAGE);
	CHECK_EQ(parse(&a, err, sizeof(err), "--engine", "vmware", NULL),
		 CLI_EXIT_USAGE);
	/* kvm and auto are engines now; the machine decides if kvm runs. */
	CHECK_EQ(parse(&a, err, sizeof(err), "--engine", "kvm", NULL), 0);
	CHECK_STR(a.cfg.engine, "kvm");
	CHECK_EQ(parse(&a, err, sizeof(err), "--engine", "auto", NULL), 0);
	CHECK_EQ(parse(&a, err, sizeof(err), "--timeout", "soon", NULL),
		 CLI_EXIT_USAGE);
	CHECK_EQ(parse(&a, err, sizeof(err), "--timeout", "0", NULL),
		 CLI_EXIT_USAGE);
	CHECK_EQ(parse(&a, err, sizeof(err), "--vnc-password", "pw", NULL),
		 CLI_EXIT_USAGE);
	CHECK(strstr(err, "--vnc-password needs --vnc"));
	CHECK_EQ(parse(&a, err, sizeof(err), "--vnc", "unix:/tmp/v",
		       "--vnc-password", "pw", NULL),
		 0);
	CHECK_STR(a.cfg.vnc_listen, "unix:/tmp/v");
	CHECK_STR(a.cfg.vnc_password_file, "pw");
	/* Parsing again after an error starts afresh. */
	CHECK_EQ(parse(&a, err, sizeof(err), "--hda", "d.img", NULL), 0);
	CHECK_STR(a.cfg.disk[PC_HDA].path, "d.img");
}

static void test_drive_options(void)
{
	static struct run_args a;
	char err[256];

	CHECK_EQ(parse(&a, err, sizeof(err), "--hda", "a.img", "--hdb",
		       "/dev/loop3,rw", "--hdc", "c,d.hdd", "--hdd", "x.img,ro",
		       "--control", "/tmp/s", NULL),
		 0);
	CHECK_STR(a.cfg.disk[PC_HDA].path, "a.img");
	CHECK_EQ(a.cfg.disk[PC_HDA].access, PC_DISK_DEFAULT);
	CHECK_STR(a.cfg.disk[PC_HDB].path, "/dev/loop3");
	CHECK_EQ(a.cfg.disk[PC_HDB].access, PC_DISK_RW);
	/* Only a trailing ,rw or ,ro is a suffix. */
	CHECK_STR(a.cfg.disk[PC_HDC].path, "c,d.hdd");
	CHECK_STR(a.cfg.disk[PC_HDD].path, "x.img");
	CHECK_EQ(a.cfg.disk[PC_HDD].access, PC_DISK_RO);
	CHECK_STR(a.cfg.control_path, "/tmp/s");
	CHECK_EQ(parse(&a, err, sizeof(err), "--cdrom", "x.iso", "--hdc",
		       "d.img", NULL),
		 CLI_EXIT_USAGE);
	CHECK(strstr(err, "--cdrom and --hdc") != NULL);
	CHECK_EQ(parse(&a, err, sizeof(err), "--hdb", ",rw", NULL),
		 CLI_EXIT_USAGE);
	CHECK(strstr(err, "--hdb") != NULL);
}

int main(void)
{
	RUN_TEST(test_sizes);
	RUN_TEST(test_seconds);
	RUN_TEST(test_defaults);
	RUN_TEST(test_all_options);
	RUN_TEST(test_usage_errors);
	RUN_TEST(test_drive_options);
	return unit_summary();
}
