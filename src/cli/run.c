// SPDX-License-Identifier: MIT
/*
 * `twoostwo run`: start one virtual PC from command-line options and run
 * it in this process until the guest stops, the user quits (Ctrl-] in the
 * terminal display, SIGINT, SIGTERM) or --timeout runs out.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/clock.h"
#include "cpu/jit/jit.h"
#include "hw/vga.h"

#define RUN_TRY_HELP "(try 'twoostwo run --help')"
#define RUN_MAX_TIMEOUT_S 1e9

enum run_opt {
	OPT_CDROM = 256,
	OPT_HDA,
	OPT_HDB,
	OPT_HDC,
	OPT_HDD,
	OPT_CONTROL,
	OPT_MEMORY,
	OPT_VRAM,
	OPT_BOOT,
	OPT_BIOS,
	OPT_SERIAL,
	OPT_DEBUG_LOG,
	OPT_DISPLAY,
	OPT_SCREEN_DUMP,
	OPT_TIMEOUT,
	OPT_EXIT_WHEN_SCREEN,
	OPT_EXIT_WHEN_HALTED,
	OPT_ENGINE,
	OPT_NET,
	OPT_VNC,
	OPT_VNC_PASSWORD,
	OPT_STATE_FILE,
	OPT_RESUME,
	OPT_COM2,
	OPT_COM3,
	OPT_COM4,
	OPT_LPT1,
	OPT_LPT2,
	OPT_SANDBOX,
	OPT_JIT,
};

static const struct option run_options[] = {
	{"cdrom", required_argument, NULL, OPT_CDROM},
	{"hda", required_argument, NULL, OPT_HDA},
	{"hdb", required_argument, NULL, OPT_HDB},
	{"hdc", required_argument, NULL, OPT_HDC},
	{"hdd", required_argument, NULL, OPT_HDD},
	{"control", required_argument, NULL, OPT_CONTROL},
	{"memory", required_argument, NULL, OPT_MEMORY},
	{"vram", required_argument, NULL, OPT_VRAM},
	{"boot", required_argument, NULL, OPT_BOOT},
	{"bios", required_argument, NULL, OPT_BIOS},
	{"serial", required_argument, NULL, OPT_SERIAL},
	{"debug-log", required_argument, NULL, OPT_DEBUG_LOG},
	{"display", required_argument, NULL, OPT_DISPLAY},
	{"screen-dump", required_argument, NULL, OPT_SCREEN_DUMP},
	{"timeout", required_argument, NULL, OPT_TIMEOUT},
	{"exit-when-screen", required_argument, NULL, OPT_EXIT_WHEN_SCREEN},
	{"exit-when-halted", no_argument, NULL, OPT_EXIT_WHEN_HALTED},
	{"engine", required_argument, NULL, OPT_ENGINE},
	{"net", required_argument, NULL, OPT_NET},
	{"vnc", required_argument, NULL, OPT_VNC},
	{"vnc-password", required_argument, NULL, OPT_VNC_PASSWORD},
	{"state-file", required_argument, NULL, OPT_STATE_FILE},
	{"resume", required_argument, NULL, OPT_RESUME},
	{"com1", required_argument, NULL, OPT_SERIAL},
	{"com2", required_argument, NULL, OPT_COM2},
	{"com3", required_argument, NULL, OPT_COM3},
	{"com4", required_argument, NULL, OPT_COM4},
	{"lpt1", required_argument, NULL, OPT_LPT1},
	{"lpt2", required_argument, NULL, OPT_LPT2},
	{"sandbox", required_argument, NULL, OPT_SANDBOX},
	{"jit", required_argument, NULL, OPT_JIT},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

static const char run_usage[] =
	"usage: twoostwo run [options]\n"
	"\n"
	"Start a virtual PC (i440FX, SeaBIOS) and run it in this process.\n"
	"\n"
	"  --cdrom ISO|/dev/srN    CD-ROM drive (secondary master) with an "
	"ISO\n"
	"                          9660 image or the host's CD reader\n"
	"  --hda DISK[,rw|,ro]     primary master hard disk: a raw or "
	"Parallels\n"
	"                          .hdd image (file or bundle) or a host "
	"block\n"
	"                          device; devices are read-only unless ,rw\n"
	"  --hdb DISK[,rw|,ro]     primary slave hard disk\n"
	"  --hdc DISK[,rw|,ro]     secondary master hard disk (not with "
	"--cdrom)\n"
	"  --hdd DISK[,rw|,ro]     secondary slave hard disk\n"
	"  --control PATH          listen on the Unix socket PATH for\n"
	"                          'twoostwo control' (CD eject and insert)\n"
	"  --memory SIZE           RAM: 512 (MiB), 64M, 1G, 65536K; 2M to 3G\n"
	"                          (default 128M)\n"
	"  --vram SIZE             video memory: a power of two, 1M to 256M\n"
	"                          (default 16M)\n"
	"  --boot cd|disk|net      boot device (default: cd when --cdrom is "
	"given);\n"
	"                          net: the first ne2k-pci card's iPXE ROM\n"
	"  --bios FILE             firmware image (default " PC_DEFAULT_BIOS
	")\n"
	"  --serial SPEC           COM1 (also --com1): stdio, file:PATH, "
	"none,\n"
	"                          unix:PATH[,server], tcp:HOST:PORT[,server]\n"
	"  --com2..--com4 SPEC     COM2 0x2F8 IRQ 3, COM3 0x3E8 IRQ 4, COM4\n"
	"                          0x2E8 IRQ 3, back ends as --serial\n"
	"  --lpt1 SPEC, --lpt2 SPEC  parallel port 0x378 IRQ 7, 0x278 IRQ 5:\n"
	"                          file:PATH (a printer's output), none,\n"
	"                          ppdev:/dev/parportN (a host port), ...\n"
	"                          (default: stdio, or none with the terminal "
	"display)\n"
	"  --debug-log FILE        write the firmware's port 0x402 output to "
	"FILE\n"
	"  --display terminal|none show the screen in this terminal, Ctrl-] "
	"quits\n"
	"                          (default: terminal when run in one)\n"
	"  --screen-dump PATH      keep PATH updated with the text on the "
	"screen\n"
	"  --timeout SECONDS       stop after this long, with exit status 3\n"
	"  --exit-when-screen TEXT stop with status 0 once the screen shows "
	"TEXT\n"
	"  --exit-when-halted      stop with status 0 once the CPU halts with\n"
	"                          interrupts disabled (test ROMs end so)\n"
	"  --engine soft|kvm|auto  CPU engine (default soft): kvm runs the\n"
	"                          guest through /dev/kvm (VT-x/AMD-V hosts);\n"
	"                          auto picks kvm where the host has hardware\n"
	"                          virtualization, soft otherwise, and says\n"
	"                          which and why\n"
	"  --jit on|off            translate hot guest code into host code\n"
	"                          (default on; or TWOOSTWO_JIT=0|1)\n"
	"  --net CARD[,BACKEND][,OPTION...]\n"
	"                          a network card (repeatable, up to 4):\n"
	"      CARD     ne2k-pci (RTL8029AS, PCI) or ne2k-isa (NE2000, "
	"ISA)\n"
	"      BACKEND  nat (default: user-mode NAT, DHCP 10.0.2.15, "
	"host\n"
	"               10.0.2.2, DNS 10.0.2.3), tap=NAME (host TAP "
	"device),\n"
	"               bridge=NAME (a new TAP on that host bridge; "
	"root),\n"
	"               vde=PATH (VDE switch: vde_switch -s PATH -d), "
	"none\n"
	"      mac=52:54:00:xx:xx:xx  (default: derived from the "
	"configuration)\n"
	"      io=0x300,irq=5         ISA card's I/O base and IRQ (these "
	"defaults;\n"
	"                             IRQs 3, 5, 7, 10, 11)\n"
	"      hostfwd=tcp:HOSTPORT:GUESTPORT  nat: host 127.0.0.1 port to "
	"guest\n"
	"                             (also udp:, tcp:ADDR:HPORT:GPORT; "
	"repeatable)\n"
	"      tftp=DIR,bootfile=NAME nat: TFTP server and DHCP boot "
	"file\n"
	"      capture=FILE.pcap      write the card's frames, both "
	"ways\n"
	"      rom=FILE|none          PCI boot ROM (default with --boot "
	"net or\n"
	"                             bootfile=: " NET_DEFAULT_PCI_ROM ")\n"
	"      e.g. --net ne2k-pci,nat,hostfwd=tcp:2222:22\n"
	"  --vnc ADDR              serve the screen, keyboard and mouse to "
	"VNC\n"
	"                          viewers on ADDR: 127.0.0.1:5901, :5901,\n"
	"                          [::1]:5901 or unix:PATH; a web console "
	"(noVNC)\n"
	"                          on port-100 is printed at start\n"
	"  --vnc-password FILE     viewers must give the password on FILE's "
	"first\n"
	"                          line (needed beyond loopback)\n"
	"  --state-file PATH       where the control socket's 'suspend' "
	"saves\n"
	"                          the machine\n"
	"  --resume PATH           continue the machine saved in PATH "
	"(removed\n"
	"                          once loaded when it is the --state-file)\n"
	"  --sandbox on|off        system-call filter, no capabilities, only\n"
	"                          the VM's files (default on; off to debug)\n"
	"  -h, --help              show this help\n";

int cli_parse_size(const char *s, u64 *bytes)
{
	unsigned shift = 20;
	char *end;
	unsigned long long n;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	n = strtoull(s, &end, 10);
	if (errno)
		return -EINVAL;
	switch (*end) {
	case 'K':
	case 'k':
		shift = 10;
		end++;
		break;
	case 'M':
	case 'm':
		end++;
		break;
	case 'G':
	case 'g':
		shift = 30;
		end++;
		break;
	}
	if (*end || n > UINT64_MAX >> shift)
		return -EINVAL;
	*bytes = (u64)n << shift;
	return 0;
}

int cli_parse_seconds(const char *s, u64 *ns)
{
	char *end;
	double v;

	if ((*s < '0' || *s > '9') && *s != '.')
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (errno || *end || !isfinite(v) || v < 0 || v > RUN_MAX_TIMEOUT_S)
		return -EINVAL;
	*ns = (u64)(v * NSEC_PER_SEC);
	return 0;
}

/* The option as the user spelled it ("--foo" of "--foo=bar", or "-x"). */
static void run_bad_option(char **argv, int optind_after, int optopt_val,
			   char *err, size_t errlen)
{
	const char *arg = argv[optind_after - 1];

	if (optopt_val && optopt_val < 256 && strncmp(arg, "--", 2))
		snprintf(err, errlen, "unknown option '-%c' " RUN_TRY_HELP,
			 optopt_val);
	else
		snprintf(err, errlen, "unknown option '%.*s' " RUN_TRY_HELP,
			 (int)strcspn(arg, "="), arg);
}

static int run_set_memory(struct run_args *a, const char *v, char *err,
			  size_t errlen)
{
	u64 bytes;

	if (cli_parse_size(v, &bytes)) {
		snprintf(err, errlen,
			 "invalid memory size '%s' (examples: 512, 64M, "
			 "1G) " RUN_TRY_HELP,
			 v);
		return CLI_EXIT_USAGE;
	}
	if (bytes < PC_MIN_RAM || bytes > PC_MAX_RAM) {
		snprintf(err, errlen,
			 "memory size '%s' out of range (2M to 3G)", v);
		return CLI_EXIT_USAGE;
	}
	if (bytes % (64 << 10)) {
		snprintf(err, errlen,
			 "memory size '%s' is not a multiple of 64K", v);
		return CLI_EXIT_USAGE;
	}
	a->cfg.ram_size = bytes;
	return 0;
}

static int run_set_vram(struct run_args *a, const char *v, char *err,
			size_t errlen)
{
	u64 bytes;

	if (cli_parse_size(v, &bytes) || !vga_vram_size_valid(bytes)) {
		snprintf(err, errlen,
			 "invalid video memory size '%s' (a power of two from "
			 "1M to 256M, e.g. 16M) " RUN_TRY_HELP,
			 v);
		return CLI_EXIT_USAGE;
	}
	a->cfg.vram_size = (u32)bytes;
	return 0;
}

/* v must be one of the NULL-terminated names; its index goes to *out. */
static int run_pick(const char *opt, const char *v, const char *const *names,
		    int *out, char *err, size_t errlen)
{
	int i;

	for (i = 0; names[i]; i++) {
		if (!strcmp(v, names[i])) {
			*out = i;
			return 0;
		}
	}
	snprintf(err, errlen, "invalid value '%s' for --%s " RUN_TRY_HELP, v,
		 opt);
	return CLI_EXIT_USAGE;
}

static int run_set_choice(struct run_args *a, int opt, const char *v, char *err,
			  size_t errlen)
{
	static const char *const boots[] = {"cd", "disk", "net", NULL};
	static const enum pc_boot boot_values[] = {PC_BOOT_CDROM, PC_BOOT_DISK,
						   PC_BOOT_NET};
	static const char *const displays[] = {"none", "terminal", NULL};
	static const char *const engines[] = {"soft", "kvm", "auto", "hybrid",
					      NULL};
	static const char *const on_off[] = {"off", "on", NULL};
	int i;

	switch (opt) {
	case OPT_BOOT:
		if (run_pick("boot", v, boots, &i, err, errlen))
			return CLI_EXIT_USAGE;
		a->cfg.boot = boot_values[i];
		return 0;
	case OPT_DISPLAY:
		if (run_pick("display", v, displays, &i, err, errlen))
			return CLI_EXIT_USAGE;
		a->cfg.display = i ? PC_DISPLAY_TERMINAL : PC_DISPLAY_NONE;
		a->display_set = true;
		return 0;
	case OPT_SANDBOX:
		if (run_pick("sandbox", v, on_off, &i, err, errlen))
			return CLI_EXIT_USAGE;
		a->no_sandbox = !i;
		return 0;
	case OPT_JIT:
		if (run_pick("jit", v, on_off, &i, err, errlen))
			return CLI_EXIT_USAGE;
		jit_mode = i ? JIT_ON : JIT_OFF;
		return 0;
	default:
		if (run_pick("engine", v, engines, &i, err, errlen))
			return CLI_EXIT_USAGE;
		a->cfg.engine = v;
		return 0;
	}
}

static int run_set_timeout(struct run_args *a, const char *v, char *err,
			   size_t errlen)
{
	if (cli_parse_seconds(v, &a->cfg.timeout_ns) || !a->cfg.timeout_ns) {
		snprintf(err, errlen,
			 "invalid timeout '%s' (seconds, e.g. 30 or "
			 "2.5) " RUN_TRY_HELP,
			 v);
		return CLI_EXIT_USAGE;
	}
	return 0;
}

/*
 * DISK[,rw|,ro]: the path, then how to open it. Only a trailing ",rw" or
 * ",ro" is a suffix, so other commas stay part of the path.
 */
static int run_set_disk(struct run_args *a, int opt, const char *v, char *err,
			size_t errlen)
{
	unsigned slot = (unsigned)(opt - OPT_HDA);
	struct pc_disk_config *d = &a->cfg.disk[slot];
	size_t len = strlen(v);

	d->access = PC_DISK_DEFAULT;
	if (len >= 3 &&
	    (!strcmp(v + len - 3, ",rw") || !strcmp(v + len - 3, ",ro"))) {
		d->access = v[len - 1] == 'w' ? PC_DISK_RW : PC_DISK_RO;
		len -= 3;
	}
	if (!len || len >= sizeof(a->disk_path[slot])) {
		snprintf(err, errlen, "invalid disk path '%s' for --hd%c", v,
			 'a' + slot);
		return CLI_EXIT_USAGE;
	}
	memcpy(a->disk_path[slot], v, len);
	a->disk_path[slot][len] = '\0';
	d->path = a->disk_path[slot];
	return 0;
}

static int run_set_option(struct run_args *a, int opt, const char *v, char *err,
			  size_t errlen)
{
	switch (opt) {
	case OPT_CDROM:
		a->cfg.cdrom_path = v;
		return 0;
	case OPT_HDA:
	case OPT_HDB:
	case OPT_HDC:
	case OPT_HDD:
		return run_set_disk(a, opt, v, err, errlen);
	case OPT_CONTROL:
		a->cfg.control_path = v;
		return 0;
	case OPT_BIOS:
		a->cfg.bios_path = v;
		return 0;
	case OPT_SERIAL:
		a->cfg.serial_spec = v;
		a->serial_set = true;
		return 0;
	case OPT_DEBUG_LOG:
		a->cfg.debug_log_path = v;
		return 0;
	case OPT_SCREEN_DUMP:
		a->cfg.screen_dump_path = v;
		return 0;
	case OPT_EXIT_WHEN_SCREEN:
		a->cfg.exit_when_screen = v;
		return 0;
	case OPT_VNC:
		a->cfg.vnc_listen = v;
		return 0;
	case OPT_VNC_PASSWORD:
		a->cfg.vnc_password_file = v;
		return 0;
	case OPT_STATE_FILE:
		a->cfg.state_path = v;
		return 0;
	case OPT_RESUME:
		a->resume_path = v;
		return 0;
	case OPT_COM2:
	case OPT_COM3:
	case OPT_COM4:
		a->cfg.com_spec[opt - OPT_COM2] = v;
		return 0;
	case OPT_LPT1:
	case OPT_LPT2:
		a->cfg.lpt_spec[opt - OPT_LPT1] = v;
		return 0;
	case OPT_EXIT_WHEN_HALTED:
		a->cfg.exit_when_halted = true;
		return 0;
	case OPT_MEMORY:
		return run_set_memory(a, v, err, errlen);
	case OPT_VRAM:
		return run_set_vram(a, v, err, errlen);
	case OPT_TIMEOUT:
		return run_set_timeout(a, v, err, errlen);
	case OPT_NET:
		if (a->cfg.nr_nics == NET_MAX_CARDS) {
			snprintf(err, errlen, "at most %u --net cards",
				 NET_MAX_CARDS);
			return CLI_EXIT_USAGE;
		}
		a->net_spec[a->cfg.nr_nics++] = v;
		return 0;
	default:
		return run_set_choice(a, opt, v, err, errlen);
	}
}

/*
 * The --net cards, once every option is known: a card's default MAC
 * depends on its position, its specification and the VM's first disk or
 * CD, so a VM started again the same way keeps its MAC.
 */
static int run_parse_nets(struct run_args *a, char *err, size_t errlen)
{
	const char *identity = a->cfg.disk[PC_HDA].path ?
				       a->cfg.disk[PC_HDA].path :
				       a->cfg.cdrom_path;
	unsigned i;

	for (i = 0; i < a->cfg.nr_nics; i++)
		if (net_config_parse(a->net_spec[i], i, identity, &a->nics[i],
				     err, errlen))
			return CLI_EXIT_USAGE;
	a->cfg.nics = a->nics;
	return 0;
}

int cli_run_parse(int argc, char **argv, struct run_args *args, char *err,
		  size_t errlen)
{
	int opt, ret;

	*args = (struct run_args){0};
	args->cfg.ram_size = PC_DEFAULT_RAM;
	args->cfg.engine = "soft";
	/* optind 0: GNU getopt starts afresh, so tests can parse again. */
	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":h", run_options, NULL)) != -1) {
		switch (opt) {
		case 'h':
			args->help = true;
			break;
		case ':':
			snprintf(err, errlen,
				 "option '%s' needs a value " RUN_TRY_HELP,
				 argv[optind - 1]);
			return CLI_EXIT_USAGE;
		case '?':
			run_bad_option(argv, optind, optopt, err, errlen);
			return CLI_EXIT_USAGE;
		default:
			ret = run_set_option(args, opt, optarg, err, errlen);
			if (ret)
				return ret;
		}
	}
	if (optind < argc) {
		snprintf(err, errlen, "unexpected argument '%s' " RUN_TRY_HELP,
			 argv[optind]);
		return CLI_EXIT_USAGE;
	}
	if (args->cfg.vnc_password_file && !args->cfg.vnc_listen) {
		snprintf(err, errlen,
			 "--vnc-password needs --vnc " RUN_TRY_HELP);
		return CLI_EXIT_USAGE;
	}
	if (args->cfg.cdrom_path && args->cfg.disk[PC_CDROM_SLOT].path) {
		snprintf(err, errlen,
			 "--cdrom and --hdc both want the secondary master; "
			 "use --hdd for the disk");
		return CLI_EXIT_USAGE;
	}
	return run_parse_nets(args, err, errlen);
}

/*
 * The terminal display is the default when we run in a terminal, unless
 * --serial stdio already claims it.
 */
static void run_pick_display(struct run_args *a)
{
	bool serial_stdio =
		a->serial_set && !strcmp(a->cfg.serial_spec, "stdio");

	if (a->display_set)
		return;
	a->cfg.display =
		isatty(STDIN_FILENO) && isatty(STDOUT_FILENO) && !serial_stdio ?
			PC_DISPLAY_TERMINAL :
			PC_DISPLAY_NONE;
}

/*
 * Stopped by SIGINT or SIGTERM: once the terminal is restored, die by the
 * same signal, so the parent sees what it sent take effect.
 */
static int run_exit_status(int status)
{
	int sig = status - PC_EXIT_SIGNAL;

	if (sig != SIGINT && sig != SIGTERM)
		return status;
	fflush(NULL);
	signal(sig, SIG_DFL);
	raise(sig);
	return status;
}

int cli_cmd_run(int argc, char **argv)
{
	struct run_args args;
	struct pc *pc;
	char err[512];
	int ret = cli_run_parse(argc, argv, &args, err, sizeof(err));

	if (ret) {
		fprintf(stderr, "twoostwo: %s\n", err);
		return ret;
	}
	if (args.help) {
		fputs(run_usage, stdout);
		return 0;
	}
	run_pick_display(&args);
	if (pc_create(&args.cfg, &pc, err, sizeof(err))) {
		fprintf(stderr, "twoostwo: %s\n", err);
		return CLI_EXIT_ERROR;
	}
	if (args.resume_path &&
	    pc_load_state(pc, args.resume_path, err, sizeof(err))) {
		fprintf(stderr, "twoostwo: %s\n", err);
		pc_destroy(pc);
		return CLI_EXIT_ERROR;
	}
	/*
	 * A VM's own saved state is used up once loaded: the disks move on
	 * from here, so resuming it a second time would corrupt them.
	 */
	if (args.resume_path && args.cfg.state_path &&
	    !strcmp(args.resume_path, args.cfg.state_path))
		unlink(args.resume_path);
	if (!args.no_sandbox && pc_enter_sandbox(pc, err, sizeof(err))) {
		fprintf(stderr, "twoostwo: %s (--sandbox off runs without)\n",
			err);
		pc_destroy(pc);
		return CLI_EXIT_ERROR;
	}
	ret = pc_run(pc);
	pc_destroy(pc);
	return run_exit_status(ret);
}
