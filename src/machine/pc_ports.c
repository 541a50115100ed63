// SPDX-License-Identifier: MIT
/*
 * The PC's other serial and parallel ports: COM2 0x2F8 IRQ 3, COM3 0x3E8
 * IRQ 4, COM4 0x2E8 IRQ 3 (16550A), LPT1 0x378 IRQ 7, LPT2 0x278 IRQ 5.
 * Each exists only when configured. SeaBIOS finds them by probing and
 * lists them in the BIOS data area; Linux's 8250 driver probes the four
 * legacy COM addresses and parport_pc the legacy LPT ones.
 */
#include <stdio.h>
#include <string.h>

#include "chardev/ppdev.h"
#include "hw/parallel.h"
#include "hw/uart16550.h"
#include "machine/pc_internal.h"

static const struct {
	u16 base;
	u8 irq;
	const char *what;
} pc_port_layout[5] = {
	{0x2f8, 3, "COM2"},
	{0x3e8, 4, "COM3"},
	{0x2e8, 3, "COM4"},
	{PARALLEL_LPT1_BASE, PARALLEL_LPT1_IRQ, "LPT1"},
	{PARALLEL_LPT2_BASE, PARALLEL_LPT2_IRQ, "LPT2"},
};

int pc_create_ports(struct pc *pc, char *err, size_t errlen)
{
	unsigned i;
	int ret;

	for (i = 0; i < 5; i++) {
		const char *spec =
			i < 3 ? pc->cfg.com_spec[i] : pc->cfg.lpt_spec[i - 3];
		struct device dev;
		char why[256];

		if (!spec)
			continue;
		if (i >= 3 && !strncmp(spec, "ppdev:", 6)) {
			int fd = ppdev_open(spec + 6, why, sizeof(why));

			if (fd < 0) {
				snprintf(err, errlen, "%s: %s",
					 pc_port_layout[i].what, why);
				return fd;
			}
			ret = pc_adopt_device(
				pc,
				parallel_device(parallel_create_ppdev(
					pc->pio, pc_port_layout[i].base,
					pc_isa_irq_line(pc,
							pc_port_layout[i].irq),
					fd)),
				pc_port_layout[i].what, err, errlen);
			if (ret)
				return ret;
			continue;
		}
		ret = chardev_open(spec, &pc->loop, &pc->ports[i], why,
				   sizeof(why));
		if (ret) {
			snprintf(err, errlen, "%s: %s", pc_port_layout[i].what,
				 why);
			return ret;
		}
		if (i < 3)
			dev = uart16550_device(uart16550_create(
				pc->pio, pc_port_layout[i].base,
				pc_isa_irq_line(pc, pc_port_layout[i].irq),
				&pc->loop.timers, pc->ports[i]));
		else
			dev = parallel_device(parallel_create(
				pc->pio, pc_port_layout[i].base,
				pc_isa_irq_line(pc, pc_port_layout[i].irq),
				pc->ports[i]));
		ret = pc_adopt_device(pc, dev, pc_port_layout[i].what, err,
				      errlen);
		if (ret)
			return ret;
	}
	return 0;
}

void pc_close_ports(struct pc *pc)
{
	unsigned i;

	for (i = 0; i < 5; i++) {
		if (pc->ports[i])
			chardev_close(pc->ports[i]);
		pc->ports[i] = NULL;
	}
}
