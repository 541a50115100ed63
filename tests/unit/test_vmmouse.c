// SPDX-License-Identifier: MIT
/*
 * The vmmouse absolute pointer, reached as guests reach it: the soft CPU
 * executes IN EAX,DX on port 0x5658 with the magic in EAX and the command
 * in ECX (the sequence of Linux's psmouse vmmouse driver: GETVERSION,
 * ABSPOINTER_COMMAND enable, STATUS, DATA 1 for the version id, request
 * absolute; then on each IRQ 12, STATUS and DATA 4 per packet).
 */
#include "cpu_rig.h"
#include "hw/i8042.h"
#include "hw/vmmouse.h"

#define CMD_GETVERSION 10
#define CMD_DATA 39
#define CMD_STATUS 40
#define CMD_COMMAND 41
#define SUB_ENABLE 0x45414552u
#define SUB_DISABLE 0xf5u
#define SUB_ABSOLUTE 0x53424152u
#define VERSION_ID 0x3442554au
#define VM_ERROR 0xffff0000u

struct mouse_rig {
	struct rig cpu;
	struct i8042 *kbc;
	struct vmmouse *vm;
	unsigned irq12_raises;
	bool irq12;
};

static void mrig_irq(void *opaque, unsigned pin, bool level)
{
	struct mouse_rig *m = opaque;

	if (pin != 12)
		return;
	if (level && !m->irq12)
		m->irq12_raises++;
	m->irq12 = level;
}

static void mrig_open(struct mouse_rig *m)
{
	struct irq_line irq1 = {mrig_irq, m, 1}, irq12 = {mrig_irq, m, 12};

	rig_open(&m->cpu);
	m->irq12_raises = 0;
	m->irq12 = false;
	m->kbc = i8042_create(m->cpu.pio, irq1, irq12, NULL);
	CHECK(m->kbc != NULL);
	m->vm = vmmouse_create(m->cpu.pio, m->kbc);
	CHECK(m->vm != NULL);
	/* IN EAX,DX; HLT */
	rig_emit(&m->cpu, (const u8[]){0xed, 0xf4}, 2);
}

static void mrig_close(struct mouse_rig *m)
{
	vmmouse_device(m->vm).ops->destroy(m->vm);
	i8042_device(m->kbc).ops->destroy(m->kbc);
	rig_close(&m->cpu);
}

/* One backdoor call through the CPU; out gets EAX, EBX, ECX, EDX. */
static void backdoor(struct mouse_rig *m, u32 eax, u32 ecx, u32 ebx, u32 out[4])
{
	struct x86_state s;

	rig_pm_state(&m->cpu, &s);
	s.gpr[R_EAX] = eax;
	s.gpr[R_EBX] = ebx;
	s.gpr[R_ECX] = ecx;
	s.gpr[R_EDX] = VMMOUSE_PORT;
	s.gpr[R_ESI] = 0x1234;
	CHECK_EQ(rig_run_state(&m->cpu, &s), VCPU_EXIT_HALT);
	out[0] = m->cpu.st.gpr[R_EAX];
	out[1] = m->cpu.st.gpr[R_EBX];
	out[2] = m->cpu.st.gpr[R_ECX];
	out[3] = m->cpu.st.gpr[R_EDX];
	CHECK_EQ(m->cpu.st.gpr[R_ESI], 0x1234);
}

static void aux(struct mouse_rig *m, u8 v)
{
	pio_write(m->cpu.pio, 0x64, 0xd4, 1);
	pio_write(m->cpu.pio, 0x60, v, 1);
}

static int get(struct mouse_rig *m)
{
	if (!(pio_read(m->cpu.pio, 0x64, 1) & 1))
		return -1;
	return (int)pio_read(m->cpu.pio, 0x60, 1);
}

/* Linux's vmmouse_init: reset the PS/2 mouse, enable, check, absolute. */
static void linux_enable(struct mouse_rig *m)
{
	u32 r[4];

	backdoor(m, VMMOUSE_MAGIC, CMD_GETVERSION, 0, r);
	CHECK_EQ(r[1], VMMOUSE_MAGIC);
	CHECK(r[0] != 0xffffffffu);
	pio_write(m->cpu.pio, 0x64, 0x60, 1);
	pio_write(m->cpu.pio, 0x60, 0x47, 1); /* IRQ 1 and 12, translate */
	aux(m, 0xff);
	CHECK_EQ(get(m), 0xfa);
	CHECK_EQ(get(m), 0xaa);
	CHECK_EQ(get(m), 0x00);
	backdoor(m, VMMOUSE_MAGIC, CMD_COMMAND, SUB_ENABLE, r);
	backdoor(m, VMMOUSE_MAGIC, CMD_STATUS, 0, r);
	CHECK_EQ(r[0] & 0xffff, 1);
	backdoor(m, VMMOUSE_MAGIC, CMD_DATA, 1, r);
	CHECK_EQ(r[0], VERSION_ID);
	CHECK(!vmmouse_absolute(m->vm));
	backdoor(m, VMMOUSE_MAGIC, CMD_COMMAND, SUB_ABSOLUTE, r);
	CHECK(vmmouse_absolute(m->vm));
	aux(m, 0xf4);
	CHECK_EQ(get(m), 0xfa);
}

static void test_absent_without_magic(void)
{
	struct mouse_rig m;
	u32 r[4];

	mrig_open(&m);
	backdoor(&m, 0, CMD_GETVERSION, 0, r);
	CHECK_EQ(r[0], 0xffffffffu);
	CHECK(r[1] != VMMOUSE_MAGIC);
	/* Disabled device: status says error, events are not taken. */
	backdoor(&m, VMMOUSE_MAGIC, CMD_STATUS, 0, r);
	CHECK_EQ(r[0], VM_ERROR);
	CHECK(!vmmouse_event(m.vm, 10, 10, 0, 0));
	mrig_close(&m);
}

static void test_linux_sequence_and_packets(void)
{
	struct mouse_rig m;
	u32 r[4];
	int b0;

	mrig_open(&m);
	linux_enable(&m);
	CHECK(vmmouse_event(m.vm, 0x8000, 0x4000, 1, 0x05));
	/* The PS/2 mouse interrupts with an empty packet ... */
	CHECK(m.irq12);
	b0 = get(&m);
	CHECK(b0 & 0x08);
	CHECK_EQ(get(&m), 0);
	CHECK_EQ(get(&m), 0);
	CHECK_EQ(get(&m), -1);
	/* ... and the driver fetches the packet from the backdoor. */
	backdoor(&m, VMMOUSE_MAGIC, CMD_STATUS, 0, r);
	CHECK_EQ(r[0], 4);
	backdoor(&m, VMMOUSE_MAGIC, CMD_DATA, 4, r);
	CHECK_EQ(r[0], 0x20 | 0x08); /* left and middle, absolute */
	CHECK_EQ(r[1], 0x8000);
	CHECK_EQ(r[2], 0x4000);
	CHECK_EQ(r[3], 1);
	backdoor(&m, VMMOUSE_MAGIC, CMD_STATUS, 0, r);
	CHECK_EQ(r[0], 0);
	/* Wheel away from the user is a negative byte. */
	CHECK(vmmouse_event(m.vm, 0, 0xffff, -1, 0x02));
	backdoor(&m, VMMOUSE_MAGIC, CMD_DATA, 4, r);
	CHECK_EQ(r[0], 0x10);
	CHECK_EQ(r[2], 0xffff);
	CHECK_EQ(r[3], 0xff);
	/* Disable: relative again, the status reads as an error. */
	backdoor(&m, VMMOUSE_MAGIC, CMD_COMMAND, SUB_DISABLE, r);
	backdoor(&m, VMMOUSE_MAGIC, CMD_STATUS, 0, r);
	CHECK_EQ(r[0], VM_ERROR);
	CHECK(!vmmouse_absolute(m.vm));
	mrig_close(&m);
}

static void test_hostile_reads_and_flood(void)
{
	struct mouse_rig m;
	u32 r[4];
	int i;

	mrig_open(&m);
	linux_enable(&m);
	/* Word counts outside 1..4, and more than is queued: errors. */
	backdoor(&m, VMMOUSE_MAGIC, CMD_DATA, 0, r);
	CHECK_EQ(r[0], VM_ERROR);
	backdoor(&m, VMMOUSE_MAGIC, CMD_DATA, 0xffffffffu, r);
	CHECK_EQ(r[0], VM_ERROR);
	backdoor(&m, VMMOUSE_MAGIC, CMD_DATA, 4, r);
	CHECK_EQ(r[0], VM_ERROR);
	/* Unknown commands and sub-commands change nothing. */
	backdoor(&m, VMMOUSE_MAGIC, 0xffff, 0, r);
	backdoor(&m, VMMOUSE_MAGIC, CMD_COMMAND, 0x12345678, r);
	CHECK(vmmouse_absolute(m.vm));
	/* A flood the guest does not read: bounded, newest kept last. */
	for (i = 0; i < 1000; i++)
		CHECK(vmmouse_event(m.vm, (u16)i, 7, 0, 0));
	backdoor(&m, VMMOUSE_MAGIC, CMD_STATUS, 0, r);
	CHECK(r[0] > 0 && r[0] <= 64 && r[0] % 4 == 0);
	for (i = (int)r[0] / 4; i > 0; i--)
		backdoor(&m, VMMOUSE_MAGIC, CMD_DATA, 4, r);
	CHECK_EQ(r[1], 999);
	backdoor(&m, VMMOUSE_MAGIC, CMD_STATUS, 0, r);
	CHECK_EQ(r[0], 0);
	/* 16-bit reads of the port see no backdoor. */
	CHECK_EQ(pio_read(m.cpu.pio, VMMOUSE_PORT, 2), 0xffff);
	mrig_close(&m);
}

int main(void)
{
	RUN_TEST(test_absent_without_magic);
	RUN_TEST(test_linux_sequence_and_packets);
	RUN_TEST(test_hostile_reads_and_flood);
	return unit_summary();
}
