// SPDX-License-Identifier: MIT
/*
 * `twoostwo vm`: the VM suite (see vm_cli.h). This file: the verb table,
 * create, list, info, set and delete.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "block/bundle.h"
#include "block/hdd.h"
#include "cli/cli.h"
#include "cli/vm_cli.h"

static const char vm_usage[] =
	"usage: twoostwo vm VERB [options] NAME|PATH ...\n"
	"\n"
	"A VM is a folder (NAME: $XDG_DATA_HOME/twoostwo/vms/NAME, default\n"
	"~/.local/share/twoostwo/vms/NAME; anything with a '/' is a path) "
	"with\n"
	"its configuration vm.ini, its disks, its log vm.log and, while\n"
	"suspended, its saved state state.twss.\n"
	"\n"
	"  create NAME [run options] [--disk-size SIZE [--disk-format "
	"raw|hdd]]\n"
	"                     new VM; options as 'twoostwo run' (--memory,\n"
	"                     --cdrom, --hda..--hdd, --boot, --display, "
	"--bios,\n"
	"                     --engine, --net SPEC..., --com1..--com4 SPEC,\n"
	"                     --lpt1/--lpt2 SPEC, --vnc ADDR, --vnc-password\n"
	"                     FILE); --disk-size makes hda.img\n"
	"                     (raw) or the .hdd bundle hda.hdd\n"
	"  list               every VM: state, pid, memory, uptime\n"
	"  info NAME          configuration and state\n"
	"  set NAME KEY=VALUE...  change a stopped VM (memory=512M, "
	"hda=x.img,\n"
	"                     com2=pty, net=user ...; KEY= removes it)\n"
	"  delete NAME        remove a stopped VM's folder (refused while a\n"
	"                     linked clone uses its disks)\n"
	"  start NAME [--console] [--discard-state]\n"
	"                     run in the background (resumes a suspended VM)\n"
	"  console NAME [--display]\n"
	"                     print the VNC and web console addresses of a VM\n"
	"                     with --vnc, then attach this terminal to COM1\n"
	"                     (Ctrl-] detaches); --display: print only\n"
	"  stop NAME [--force] [--timeout S]\n"
	"                     ACPI power button, wait S s (default 120); with\n"
	"                     --force: power off after the timeout (or at "
	"once\n"
	"                     without --timeout)\n"
	"  reset|pause|unpause NAME\n"
	"  suspend NAME       save the machine into the folder and end it\n"
	"  resume NAME        continue a suspended (or paused) VM\n"
	"  clone [--linked] SRC DST\n"
	"                     copy with a new UUID and MACs (--linked: the\n"
	"                     source's .hdd bundles get a snapshot and DST\n"
	"                     only deltas on that frozen base)\n"
	"  export NAME FILE   one archive (tar, zstd-compressed if FILE ends\n"
	"                     in .zst)\n"
	"  import FILE [NAME|PATH]\n";

void vm_err(const char *verb, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "twoostwo vm %s: ", verb);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int vm_open(const char *name, struct vm_ref *ref)
{
	char err[1024];

	vm_config_init(&ref->cfg);
	if (vm_resolve(name, ref->dir, sizeof(ref->dir)) ||
	    vm_path(ref->ini, sizeof(ref->ini), ref->dir, VM_CONFIG_FILE)) {
		fprintf(stderr, "twoostwo vm: %s: path too long\n", name);
		return CLI_EXIT_USAGE;
	}
	if (access(ref->ini, F_OK)) {
		fprintf(stderr, "twoostwo vm: no VM '%s' (%s not found)\n",
			name, ref->ini);
		return CLI_EXIT_ERROR;
	}
	if (vm_config_load(&ref->cfg, ref->ini, ref->dir, err, sizeof(err))) {
		fprintf(stderr, "twoostwo vm: %s\n", err);
		return CLI_EXIT_ERROR;
	}
	return 0;
}

void vm_close(struct vm_ref *ref)
{
	vm_config_free(&ref->cfg);
}

static int vm_rm_entry(const char *path, const struct stat *st, int type,
		       struct FTW *ftw)
{
	return remove(path) < 0 ? -1 : 0;
}

int vm_remove_tree(const char *dir)
{
	return nftw(dir, vm_rm_entry, 16, FTW_DEPTH | FTW_PHYS) ? -errno : 0;
}

/* create */

enum vm_create_opt {
	VC_MEMORY = 300,
	VC_CDROM,
	VC_HDA,
	VC_HDB,
	VC_HDC,
	VC_HDD,
	VC_BOOT,
	VC_DISPLAY,
	VC_BIOS,
	VC_ENGINE,
	VC_NET,
	VC_SERIAL,
	VC_COM1,
	VC_COM2,
	VC_COM3,
	VC_COM4,
	VC_LPT1,
	VC_LPT2,
	VC_VNC,
	VC_VNC_PASSWORD,
	VC_DISK_SIZE,
	VC_DISK_FORMAT,
};

static const struct option vm_create_options[] = {
	{"memory", required_argument, NULL, VC_MEMORY},
	{"cdrom", required_argument, NULL, VC_CDROM},
	{"hda", required_argument, NULL, VC_HDA},
	{"hdb", required_argument, NULL, VC_HDB},
	{"hdc", required_argument, NULL, VC_HDC},
	{"hdd", required_argument, NULL, VC_HDD},
	{"boot", required_argument, NULL, VC_BOOT},
	{"display", required_argument, NULL, VC_DISPLAY},
	{"bios", required_argument, NULL, VC_BIOS},
	{"engine", required_argument, NULL, VC_ENGINE},
	{"net", required_argument, NULL, VC_NET},
	{"serial", required_argument, NULL, VC_SERIAL},
	{"com1", required_argument, NULL, VC_COM1},
	{"com2", required_argument, NULL, VC_COM2},
	{"com3", required_argument, NULL, VC_COM3},
	{"com4", required_argument, NULL, VC_COM4},
	{"lpt1", required_argument, NULL, VC_LPT1},
	{"lpt2", required_argument, NULL, VC_LPT2},
	{"vnc", required_argument, NULL, VC_VNC},
	{"vnc-password", required_argument, NULL, VC_VNC_PASSWORD},
	{"disk-size", required_argument, NULL, VC_DISK_SIZE},
	{"disk-format", required_argument, NULL, VC_DISK_FORMAT},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

/*
 * A path for vm.ini: inside the folder it is stored relative (the folder
 * can move), elsewhere absolute (the config does not depend on the cwd).
 */
static char *vm_store_path(const char *absdir, const char *given)
{
	char cwd[PATH_MAX], *abs, *out;
	size_t dl = strlen(absdir);

	if (!strcmp(given, "") || !strncmp(given, "/dev/", 5))
		return strdup(given);
	if (given[0] == '/') {
		abs = strdup(given);
	} else {
		if (!getcwd(cwd, sizeof(cwd)))
			return NULL;
		if (asprintf(&abs, "%s/%s", cwd, given) < 0)
			return NULL;
	}
	if (!abs)
		return NULL;
	if (!strncmp(abs, absdir, dl) && abs[dl] == '/') {
		out = strdup(abs + dl + 1);
		free(abs);
		return out;
	}
	return abs;
}

static int vm_create_set(struct vm_config *c, const char *absdir, int opt,
			 const char *v, char *err, size_t errlen)
{
	static const char *const keys[] = {
		"memory", "cdrom", "hda",     "hdb",  "hdc",
		"hdd",	  "boot",  "display", "bios", "engine",
		NULL,	  NULL,	   "com1",    "com2", "com3",
		"com4",	  "lpt1",  "lpt2",    "vnc",  "vnc-password",
	};
	char *stored = NULL, mac[18];
	const char *key;
	int ret;

	if (opt == VC_NET) {
		char *spec;

		if (!vm_net_mac(v, mac))
			vm_new_mac(mac);
		spec = vm_net_with_mac(v, mac);
		if (!spec)
			return -ENOMEM;
		ret = c->nr_net < VM_MAX_NETS ?
			      (c->net[c->nr_net++] = spec, 0) :
			      (free(spec), -E2BIG);
		if (ret)
			snprintf(err, errlen, "too many --net");
		return ret;
	}
	key = keys[(opt == VC_SERIAL ? VC_COM1 : opt) - VC_MEMORY];
	if ((opt >= VC_CDROM && opt <= VC_HDD) || opt == VC_VNC_PASSWORD) {
		stored = vm_store_path(absdir, v);
		if (!stored)
			return -ENOMEM;
		v = stored;
	}
	ret = vm_config_set(c, key, v, err, errlen);
	free(stored);
	return ret;
}

/* hda.hdd: a Parallels bundle, the format linked clones need. */
static int vm_make_bundle(const char *dir, u64 size, struct vm_config *c)
{
	char path[PATH_MAX], err[1024];
	int ret;

	if (vm_path(path, sizeof(path), dir, "hda.hdd"))
		return -ENAMETOOLONG;
	ret = bundle_create(path, size, HDD_DEFAULT_CLUSTER, false, err,
			    sizeof(err));
	if (ret) {
		vm_err("create", "%s", err);
		return ret;
	}
	free(c->drive[VM_HDA]);
	c->drive[VM_HDA] = strdup("hda.hdd");
	return c->drive[VM_HDA] ? 0 : -ENOMEM;
}

static int vm_make_disk(const char *dir, u64 size, bool bundle,
			struct vm_config *c)
{
	char path[PATH_MAX];
	int fd;

	if (bundle)
		return vm_make_bundle(dir, size, c);
	if (vm_path(path, sizeof(path), dir, "hda.img"))
		return -ENAMETOOLONG;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)size) < 0) {
		int ret = -errno;

		close(fd);
		return ret;
	}
	close(fd);
	free(c->drive[VM_HDA]);
	c->drive[VM_HDA] = strdup("hda.img");
	return c->drive[VM_HDA] ? 0 : -ENOMEM;
}

int vm_mkdirs(const char *dir)
{
	char tmp[PATH_MAX];
	size_t i;

	snprintf(tmp, sizeof(tmp), "%s", dir);
	for (i = 1; tmp[i]; i++) {
		if (tmp[i] != '/')
			continue;
		tmp[i] = '\0';
		if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
			return -errno;
		tmp[i] = '/';
	}
	return mkdir(tmp, 0755) < 0 && errno != EEXIST ? -errno : 0;
}

/* The folder as an absolute path (it may not exist yet). */
static int vm_abs_dir(const char *dir, char *out, size_t len)
{
	char cwd[PATH_MAX];

	if (dir[0] == '/')
		return snprintf(out, len, "%s", dir) >= (int)len ?
			       -ENAMETOOLONG :
			       0;
	if (!getcwd(cwd, sizeof(cwd)))
		return -errno;
	return snprintf(out, len, "%s/%s", cwd, dir) >= (int)len ?
		       -ENAMETOOLONG :
		       0;
}

static int vm_create_finish(struct vm_ref *ref, const char *name, u64 disk_size,
			    bool bundle)
{
	char err[1024], uuid[37];
	const char *base = strrchr(name, '/');
	int ret;

	vm_new_uuid(uuid);
	ret = vm_config_set(&ref->cfg, "uuid", uuid, err, sizeof(err));
	ret = ret   ?:
		      vm_config_set(&ref->cfg, "name", base ? base + 1 : name,
				    err, sizeof(err));
	if (!ref->cfg.com[0])
		ret = ret   ?:
			      vm_config_set(&ref->cfg, "com1",
					    "unix:" VM_CONSOLE_SOCK ",server",
					    err, sizeof(err));
	if (ret) {
		vm_err("create", "%s", err);
		return CLI_EXIT_USAGE;
	}
	ret = vm_mkdirs(ref->dir);
	if (!ret && disk_size && !ref->cfg.drive[VM_HDA])
		ret = vm_make_disk(ref->dir, disk_size, bundle, &ref->cfg);
	if (ret) {
		vm_err("create", "%s: %s", ref->dir, strerror(-ret));
		return CLI_EXIT_ERROR;
	}
	if (vm_config_validate(&ref->cfg, ref->ini, ref->dir, err,
			       sizeof(err)) ||
	    vm_config_save(&ref->cfg, ref->ini, err, sizeof(err))) {
		vm_err("create", "%s", err);
		return CLI_EXIT_ERROR;
	}
	printf("created %s in %s\n", ref->cfg.name, ref->dir);
	return 0;
}

/* NAME among the arguments: the one word that is no option's value. */
static const char *vm_create_name(int argc, char **argv)
{
	const char *name = NULL;
	int i;

	for (i = 1; i < argc; i++) {
		const struct option *o;

		if (argv[i][0] != '-') {
			if (name) {
				vm_err("create", "unexpected argument '%s'",
				       argv[i]);
				return NULL;
			}
			name = argv[i];
			continue;
		}
		for (o = vm_create_options; o->name; o++)
			if (!strcmp(argv[i] + 2, o->name))
				break;
		if (o->name && o->has_arg)
			i++; /* "--opt value"; "--opt=value" is one word */
	}
	if (!name)
		vm_err("create", "usage: twoostwo vm create NAME [options]");
	return name;
}

static int vm_create_options_parse(int argc, char **argv, struct vm_ref *ref,
				   const char *absdir, u64 *disk_size,
				   bool *bundle)
{
	char err[1024];
	int opt;

	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":h", vm_create_options, NULL)) !=
	       -1) {
		if (opt == '?' || opt == ':' || opt == 'h') {
			vm_err("create",
			       "bad option '%s' (try 'twoostwo vm "
			       "--help')",
			       argv[optind - 1]);
			return CLI_EXIT_USAGE;
		}
		if (opt == VC_DISK_FORMAT) {
			if (strcmp(optarg, "raw") && strcmp(optarg, "hdd")) {
				vm_err("create",
				       "--disk-format is raw or hdd, not '%s'",
				       optarg);
				return CLI_EXIT_USAGE;
			}
			*bundle = !strcmp(optarg, "hdd");
			continue;
		}
		if (opt == VC_DISK_SIZE) {
			if (vm_parse_size(optarg, disk_size) || !*disk_size) {
				vm_err("create", "bad --disk-size '%s'",
				       optarg);
				return CLI_EXIT_USAGE;
			}
			continue;
		}
		if (vm_create_set(&ref->cfg, absdir, opt, optarg, err,
				  sizeof(err))) {
			vm_err("create", "%s", err);
			return CLI_EXIT_USAGE;
		}
	}
	return 0;
}

int vm_cmd_create(int argc, char **argv)
{
	struct vm_ref ref;
	char absdir[PATH_MAX];
	const char *name;
	u64 disk_size = 0;
	bool bundle = false;
	int ret;

	if (argc == 2 &&
	    (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		fputs(vm_usage, stdout);
		return 0;
	}
	name = vm_create_name(argc, argv);
	if (!name)
		return CLI_EXIT_USAGE;
	vm_config_init(&ref.cfg);
	if (vm_resolve(name, ref.dir, sizeof(ref.dir)) ||
	    vm_path(ref.ini, sizeof(ref.ini), ref.dir, VM_CONFIG_FILE) ||
	    vm_abs_dir(ref.dir, absdir, sizeof(absdir))) {
		vm_err("create",
		       "%s: path too long (its sockets need a short "
		       "folder path)",
		       name);
		return CLI_EXIT_USAGE;
	}
	if (!access(ref.ini, F_OK)) {
		vm_err("create", "%s already exists", ref.ini);
		return CLI_EXIT_ERROR;
	}
	ret = vm_create_options_parse(argc, argv, &ref, absdir, &disk_size,
				      &bundle);
	if (!ret)
		ret = vm_create_finish(&ref, name, disk_size, bundle);
	vm_close(&ref);
	return ret;
}

/* list */

static void vm_list_one(const char *home, const char *name)
{
	struct vm_ref ref;
	char reply[512] = "", uptime[32] = "-", pidbuf[16] = "-", *u;
	enum vm_run_state st;
	pid_t pid;

	if (snprintf(ref.dir, sizeof(ref.dir), "%s/%s", home, name) >=
		    (int)sizeof(ref.dir) ||
	    vm_path(ref.ini, sizeof(ref.ini), ref.dir, VM_CONFIG_FILE) ||
	    access(ref.ini, F_OK))
		return;
	vm_config_init(&ref.cfg);
	if (vm_config_load(&ref.cfg, ref.ini, ref.dir, reply, sizeof(reply))) {
		printf("%-16s %-10s %7s %8s %9s  %s\n", name, "invalid", "-",
		       "-", "-", reply);
		return;
	}
	st = vm_run_state(ref.dir, &pid);
	if (st == VM_RUNNING) {
		snprintf(pidbuf, sizeof(pidbuf), "%d", (int)pid);
		if (!vm_control(ref.dir, "state", reply, sizeof(reply), 2000)) {
			u = strstr(reply, "uptime=");
			if (u)
				snprintf(uptime, sizeof(uptime), "%ss", u + 7);
		}
	}
	printf("%-16s %-10s %7s %7lluM %9s  %s\n", ref.cfg.name,
	       strstr(reply, "ok paused") ? "paused" : vm_run_state_name(st),
	       pidbuf, (unsigned long long)(ref.cfg.memory >> 20), uptime,
	       ref.dir);
	vm_close(&ref);
}

static int vm_name_cmp(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

int vm_cmd_list(int argc, char **argv)
{
	char home[PATH_MAX];
	struct dirent **ents;
	int n, i;

	if (argc > 1) {
		vm_err("list", "takes no arguments");
		return CLI_EXIT_USAGE;
	}
	if (vm_home(home, sizeof(home))) {
		vm_err("list", "neither XDG_DATA_HOME nor HOME is set");
		return CLI_EXIT_ERROR;
	}
	printf("%-16s %-10s %7s %8s %9s  %s\n", "NAME", "STATE", "PID",
	       "MEMORY", "UPTIME", "FOLDER");
	n = scandir(home, &ents, NULL, vm_name_cmp);
	for (i = 0; i < n; i++) {
		if (ents[i]->d_name[0] != '.')
			vm_list_one(home, ents[i]->d_name);
		free(ents[i]);
	}
	if (n >= 0)
		free(ents);
	return 0;
}

/* info, set, delete */

int vm_cmd_info(int argc, char **argv)
{
	struct vm_ref ref;
	char reply[512] = "";
	enum vm_run_state st;
	char *text;
	pid_t pid;
	int ret;

	if (argc != 2) {
		vm_err("info", "usage: twoostwo vm info NAME");
		return CLI_EXIT_USAGE;
	}
	ret = vm_open(argv[1], &ref);
	if (ret)
		return ret;
	st = vm_run_state(ref.dir, &pid);
	printf("folder: %s\nstate: %s", ref.dir, vm_run_state_name(st));
	if (st == VM_RUNNING) {
		vm_control(ref.dir, "state", reply, sizeof(reply), 2000);
		printf(" (pid %d) %s", (int)pid, reply);
	}
	text = vm_config_format(&ref.cfg);
	printf("\n\n%s", text ? text : "");
	free(text);
	vm_close(&ref);
	return 0;
}

int vm_cmd_set(int argc, char **argv)
{
	struct vm_ref ref;
	char err[1024];
	pid_t pid;
	int i, ret;

	if (argc < 3) {
		vm_err("set", "usage: twoostwo vm set NAME KEY=VALUE...");
		return CLI_EXIT_USAGE;
	}
	ret = vm_open(argv[1], &ref);
	if (ret)
		return ret;
	if (vm_run_state(ref.dir, &pid) != VM_STOPPED) {
		vm_err("set", "%s is %s: change a stopped VM only", argv[1],
		       vm_run_state_name(vm_run_state(ref.dir, &pid)));
		vm_close(&ref);
		return CLI_EXIT_ERROR;
	}
	for (i = 2; i < argc && !ret; i++) {
		char *eq = strchr(argv[i], '='), key[64];

		if (!eq || (size_t)(eq - argv[i]) >= sizeof(key)) {
			vm_err("set", "'%s' is not KEY=VALUE", argv[i]);
			ret = CLI_EXIT_USAGE;
			break;
		}
		memcpy(key, argv[i], (size_t)(eq - argv[i]));
		key[eq - argv[i]] = '\0';
		if (vm_config_set(&ref.cfg, key, eq + 1, err, sizeof(err))) {
			vm_err("set", "%s", err);
			ret = CLI_EXIT_USAGE;
		}
	}
	if (!ret &&
	    (vm_config_validate(&ref.cfg, ref.ini, ref.dir, err, sizeof(err)) ||
	     vm_config_save(&ref.cfg, ref.ini, err, sizeof(err)))) {
		vm_err("set", "%s", err);
		ret = CLI_EXIT_ERROR;
	}
	vm_close(&ref);
	return ret;
}

int vm_cmd_delete(int argc, char **argv)
{
	char who[PATH_MAX];
	struct vm_ref ref;
	pid_t pid;
	int ret;

	if (argc != 2) {
		vm_err("delete", "usage: twoostwo vm delete NAME");
		return CLI_EXIT_USAGE;
	}
	ret = vm_open(argv[1], &ref);
	if (ret)
		return ret;
	if (vm_run_state(ref.dir, &pid) == VM_RUNNING) {
		vm_err("delete", "%s is running (pid %d): stop it first",
		       argv[1], (int)pid);
		vm_close(&ref);
		return CLI_EXIT_ERROR;
	}
	if (vm_linked_dependant(ref.dir, who, sizeof(who))) {
		vm_err("delete",
		       "%s: its disks are the base of the linked clone %s: "
		       "delete that first",
		       argv[1], who);
		vm_close(&ref);
		return CLI_EXIT_ERROR;
	}
	ret = vm_remove_tree(ref.dir);
	if (ret)
		vm_err("delete", "%s: %s", ref.dir, strerror(-ret));
	vm_close(&ref);
	return ret ? CLI_EXIT_ERROR : 0;
}

/* The verb table */

static const struct {
	const char *name;
	int (*run)(int argc, char **argv);
} vm_verbs[] = {
	{"create", vm_cmd_create},   {"list", vm_cmd_list},
	{"info", vm_cmd_info},	     {"set", vm_cmd_set},
	{"delete", vm_cmd_delete},   {"start", vm_cmd_start},
	{"console", vm_cmd_console}, {"stop", vm_cmd_stop},
	{"reset", vm_cmd_simple},    {"pause", vm_cmd_simple},
	{"unpause", vm_cmd_simple},  {"suspend", vm_cmd_suspend},
	{"resume", vm_cmd_resume},   {"clone", vm_cmd_clone},
	{"export", vm_cmd_export},   {"import", vm_cmd_import},
};

int cli_cmd_vm(int argc, char **argv)
{
	size_t i;

	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
	    !strcmp(argv[1], "help")) {
		fputs(vm_usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? CLI_EXIT_USAGE : 0;
	}
	for (i = 0; i < ARRAY_SIZE(vm_verbs); i++)
		if (!strcmp(argv[1], vm_verbs[i].name))
			return vm_verbs[i].run(argc - 1, argv + 1);
	fprintf(stderr,
		"twoostwo vm: unknown verb '%s' (try 'twoostwo vm --help')\n",
		argv[1]);
	return CLI_EXIT_USAGE;
}
