// SPDX-License-Identifier: MIT
/*
 * twoostwo: git-style entry point. `twoostwo <command> [options]`; each
 * command is a row of the table below and a file of its own.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static const struct cli_command commands[] = {
	{"run", cli_cmd_run, "start a virtual PC in this terminal"},
	{"disk", cli_cmd_disk, "create, inspect, check and convert images"},
	{"control", cli_cmd_control, "eject or insert a running machine's CD"},
	{"vm", cli_cmd_vm, "VM folders: create, start, stop, suspend, ..."},
};

static void main_usage(FILE *out)
{
	size_t i;

	fputs("usage: twoostwo <command> [options]\n"
	      "       twoostwo --help | --version\n"
	      "\n"
	      "Commands:\n",
	      out);
	for (i = 0; i < ARRAY_SIZE(commands); i++)
		fprintf(out, "  %-10s %s\n", commands[i].name,
			commands[i].summary);
	fputs("\n'twoostwo <command> --help' describes a command's options.\n",
	      out);
}

#ifdef __SANITIZE_ADDRESS__
const char *__lsan_default_suppressions(void);

/*
 * LeakSanitizer suppressions of sanitizer builds, compiled in: a
 * suppressions file would be read at exit, after the sandbox forbids
 * stat(). Only allocations inside third-party libraries belong here.
 * libvncserver 0.9.14 (Debian 12) leaves one ~45 KiB object of its own
 * (its frames only) when a VM with VNC clients connected powers off,
 * although vnc_destroy() shuts the server down and cleans the screen up
 * (test_linux's linux_poweroff, since the VNC checks share that boot).
 */
const char *__lsan_default_suppressions(void)
{
	return "leak:libvncserver.so\n";
}
#endif

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : NULL;
	size_t i;

	/* A closed pipe on the serial output is an error, not a death. */
	signal(SIGPIPE, SIG_IGN);
	if (!cmd) {
		main_usage(stderr);
		return CLI_EXIT_USAGE;
	}
	if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") ||
	    !strcmp(cmd, "help")) {
		main_usage(stdout);
		return 0;
	}
	if (!strcmp(cmd, "--version")) {
		printf("twoostwo %s\n", TWOOSTWO_VERSION);
		return 0;
	}
	for (i = 0; i < ARRAY_SIZE(commands); i++)
		if (!strcmp(cmd, commands[i].name))
			return commands[i].run(argc - 1, argv + 1);
	if (cmd[0] == '-')
		fprintf(stderr,
			"twoostwo: unknown option '%s' (try 'twoostwo "
			"--help')\n",
			cmd);
	else
		fprintf(stderr,
			"twoostwo: unknown command '%s' (try 'twoostwo "
			"--help')\n",
			cmd);
	return CLI_EXIT_USAGE;
}
