// SPDX-License-Identifier: MIT
/*
 * `twoostwo vm clone|export|import`.
 */
#include <errno.h>
#include <stdio.h>

#include "cli/cli.h"
#include "cli/vm_cli.h"

int vm_cmd_clone(int argc, char **argv)
{
	vm_err("clone", "not yet");
	return CLI_EXIT_ERROR;
}

int vm_cmd_export(int argc, char **argv)
{
	vm_err("export", "not yet");
	return CLI_EXIT_ERROR;
}

int vm_cmd_import(int argc, char **argv)
{
	vm_err("import", "not yet");
	return CLI_EXIT_ERROR;
}
