/* SPDX-License-Identifier: MIT */
/*
 * The command line: `twoostwo <command> [options]`. main.c dispatches by a
 * table of commands; each command lives in its own file (run.c, ...) and
 * turns every error into one line on stderr starting "twoostwo: ".
 *
 * Exit statuses: 0 success, 1 an error (a file, the machine), 2 a usage
 * error (unknown option, bad value); commands may add their own (run: 3 on
 * --timeout; SIGINT and SIGTERM stop it cleanly, then it dies by the same
 * signal, so a shell sees 130 or 143).
 */
#ifndef TWOOSTWO_CLI_CLI_H
#define TWOOSTWO_CLI_CLI_H

#include "machine/pc.h"

#define TWOOSTWO_VERSION "0.1.0"

#define CLI_EXIT_ERROR 1
#define CLI_EXIT_USAGE 2

struct cli_command {
	const char *name;
	/* argv[0] is the command's name. Returns the process status. */
	int (*run)(int argc, char **argv);
	const char *summary;
};

/* `twoostwo run`: build a PC from the options and run it. */
int cli_cmd_run(int argc, char **argv);

/* `twoostwo disk`: create, info, check, convert and resize images. */
int cli_cmd_disk(int argc, char **argv);

/* `twoostwo control`: send one command to a running machine's socket. */
int cli_cmd_control(int argc, char **argv);

/* What `twoostwo run` was asked for, before defaults that need a tty. */
struct run_args {
	struct pc_config cfg;
	/* The --hdX paths without their ",rw"/",ro" suffix. */
	char disk_path[PC_IDE_SLOTS][4096];
	/* --net specifications, parsed once all options are known. */
	const char *net_spec[NET_MAX_CARDS];
	struct net_config nics[NET_MAX_CARDS];
	bool display_set; /* --display given */
	bool serial_set;  /* --serial given */
	bool help;
	const char *resume_path; /* --resume */
	bool no_sandbox; /* --sandbox off */
};

/*
 * Parse `run`'s arguments (argv[0] is "run"). Returns 0, or CLI_EXIT_USAGE
 * with a one-line reason (without the "twoostwo: " prefix) in err.
 */
int cli_run_parse(int argc, char **argv, struct run_args *args, char *err,
		  size_t errlen);

/*
 * Sizes: a number with an optional K, M or G suffix (binary units); a bare
 * number is MiB. Returns 0 or -EINVAL.
 */
int cli_parse_size(const char *s, u64 *bytes);
/* A non-negative number of seconds, fractions allowed. */
int cli_parse_seconds(const char *s, u64 *ns);

/* `twoostwo vm ...` (cli/vm*.c). */
int cli_cmd_vm(int argc, char **argv);

#endif
