/*
 * SPDX-License-Identifier: MIT
 *
 * Differentiated System Description Table of the twoostwo PC (ACPI 2.0,
 * readable by ACPI 1.0 interpreters). The build compiles it with iasl into
 * a C array (Makefile, "ACPI: the DSDT"); src/machine/acpi.c puts it into
 * etc/acpi/tables and sets the start of the 32-bit PCI window (PW32),
 * which depends on the RAM size.
 *
 * Outside methods only Name, Scope, Device, OperationRegion (constant
 * operands) and Field appear: SeaBIOS reads this table with its own small
 * parser to learn which legacy devices exist (PNP0303 keyboard, PNP0501
 * serial port) and gives up on anything else.
 */
DefinitionBlock ("", "DSDT", 1, "TWOOS2", "TWOOSTWO", 1)
{
    /*
     * S5, soft off: SLP_TYP 0 in PM1a_CNT, the PIIX4's SUS_TYP encoding
     * for soft off (PIIX4 datasheet 7.2.3; src/hw/piix4_pm.h).
     */
    Name (\_S5, Package (0x04) { Zero, Zero, Zero, Zero })

    Scope (\_SB)
    {
        /* The processor: _UID 0 is the MADT's processor UID. */
        Device (CPU0)
        {
            Name (_HID, "ACPI0007")
            Name (_UID, Zero)
        }

        Device (PCI0)
        {
            Name (_HID, EisaId ("PNP0A03"))
            Name (_UID, Zero)

            /*
             * Bus 0, the I/O space around the configuration ports, the
             * VGA window and the 32-bit window SeaBIOS assigns BARs from:
             * RAM top (2 or 3 GiB) up to the IOAPIC. acpi.c rewrites
             * PW32's _MIN and _LEN; the values here are for 2 GiB or less.
             */
            Name (_CRS, ResourceTemplate ()
            {
                WordBusNumber (ResourceProducer, MinFixed, MaxFixed,
                    PosDecode, 0x0000, 0x0000, 0x00FF, 0x0000, 0x0100)
                IO (Decode16, 0x0CF8, 0x0CF8, 0x01, 0x08)
                WordIO (ResourceProducer, MinFixed, MaxFixed, PosDecode,
                    EntireRange, 0x0000, 0x0000, 0x0CF7, 0x0000, 0x0CF8)
                WordIO (ResourceProducer, MinFixed, MaxFixed, PosDecode,
                    EntireRange, 0x0000, 0x0D00, 0xFFFF, 0x0000, 0xF300)
                DWordMemory (ResourceProducer, PosDecode, MinFixed,
                    MaxFixed, Cacheable, ReadWrite, 0x00000000, 0x000A0000,
                    0x000BFFFF, 0x00000000, 0x00020000)
                DWordMemory (ResourceProducer, PosDecode, MinFixed,
                    MaxFixed, NonCacheable, ReadWrite, 0x00000000,
                    0x80000000, 0xFEBFFFFF, 0x00000000, 0x7EC00000,
                    , , PW32)
            })

            /*
             * Interrupt routing: device d, pin p (0 = INTA) is wired to
             * PIRQ[(d + p - 1) & 3] of the PIIX3, the link LNKA-LNKD
             * (src/hw/piix3.h). One entry per slot and pin, 32 x 4.
             */
            Method (_PRT, 0, NotSerialized)
            {
                Local0 = Package (0x80) {}
                Local1 = Zero
                While (Local1 < 0x80)
                {
                    Local2 = Local1 >> 0x02
                    Local3 = (Local2 + Local1 + 0x03) & 0x03
                    If (Local3 == Zero)
                    {
                        Local4 = Package (0x04) { Zero, Zero, LNKA, Zero }
                    }
                    ElseIf (Local3 == One)
                    {
                        Local4 = Package (0x04) { Zero, Zero, LNKB, Zero }
                    }
                    ElseIf (Local3 == 0x02)
                    {
                        Local4 = Package (0x04) { Zero, Zero, LNKC, Zero }
                    }
                    Else
                    {
                        Local4 = Package (0x04) { Zero, Zero, LNKD, Zero }
                    }
                    Local4 [Zero] = (Local2 << 0x10) | 0xFFFF
                    Local4 [One] = Local1 & 0x03
                    Local0 [Local1] = Local4
                    Local1++
                }
                Return (Local0)
            }

            /* PIIX3 function 0, the PCI-to-ISA bridge. */
            Device (ISA)
            {
                Name (_ADR, 0x00010000)

                /* PIRQRC[A:D]: bit 7 disables, bits 3:0 the ISA IRQ. */
                OperationRegion (PIRQ, PCI_Config, 0x60, 0x04)
                Field (PIRQ, ByteAcc, NoLock, Preserve)
                {
                    PRQA, 8,
                    PRQB, 8,
                    PRQC, 8,
                    PRQD, 8
                }

                Device (KBD)
                {
                    Name (_HID, EisaId ("PNP0303"))
                    Name (_CRS, ResourceTemplate ()
                    {
                        IO (Decode16, 0x0060, 0x0060, 0x01, 0x01)
                        IO (Decode16, 0x0064, 0x0064, 0x01, 0x01)
                        IRQNoFlags () {1}
                    })
                }

                Device (MOU)
                {
                    Name (_HID, EisaId ("PNP0F13"))
                    Name (_CRS, ResourceTemplate ()
                    {
                        IRQNoFlags () {12}
                    })
                }

                Device (COM1)
                {
                    Name (_HID, EisaId ("PNP0501"))
                    Name (_UID, One)
                    Name (_CRS, ResourceTemplate ()
                    {
                        IO (Decode16, 0x03F8, 0x03F8, 0x01, 0x08)
                        IRQNoFlags () {4}
                    })
                }

                Device (RTC)
                {
                    Name (_HID, EisaId ("PNP0B00"))
                    Name (_CRS, ResourceTemplate ()
                    {
                        IO (Decode16, 0x0070, 0x0070, 0x01, 0x02)
                        IRQNoFlags () {8}
                    })
                }

                Device (PIC)
                {
                    Name (_HID, EisaId ("PNP0000"))
                    Name (_CRS, ResourceTemplate ()
                    {
                        IO (Decode16, 0x0020, 0x0020, 0x01, 0x02)
                        IO (Decode16, 0x00A0, 0x00A0, 0x01, 0x02)
                        IO (Decode16, 0x04D0, 0x04D0, 0x01, 0x02)
                        IRQNoFlags () {2}
                    })
                }

                Device (TMR)
                {
                    Name (_HID, EisaId ("PNP0100"))
                    Name (_CRS, ResourceTemplate ()
                    {
                        IO (Decode16, 0x0040, 0x0040, 0x01, 0x04)
                        IRQNoFlags () {0}
                    })
                }
            }
        }

        /*
         * PCI interrupt links. Their IRQs are level-triggered, active
         * high, as the MADT's overrides for ISA IRQs 10 and 11 say.
         */
        Name (PRSL, ResourceTemplate ()
        {
            Interrupt (ResourceConsumer, Level, ActiveHigh, Shared) {10, 11}
        })

        /* _STA of a link from its PIRQRC value. */
        Method (LSTA, 1, NotSerialized)
        {
            If (Arg0 & 0x80)
            {
                Return (0x09)
            }
            Return (0x0B)
        }

        /* _CRS of a link from its PIRQRC value (IRQ 0: disabled). */
        Method (LCRS, 1, Serialized)
        {
            Local0 = ResourceTemplate ()
            {
                Interrupt (ResourceConsumer, Level, ActiveHigh, Shared) {0}
            }
            CreateDWordField (Local0, 0x05, IRQW)
            If (!(Arg0 & 0x80))
            {
                IRQW = Arg0 & 0x0F
            }
            Return (Local0)
        }

        /* The PIRQRC value for the IRQ an _SRS buffer names. */
        Method (LSRS, 1, NotSerialized)
        {
            CreateDWordField (Arg0, 0x05, IRQW)
            Return (IRQW & 0x0F)
        }

        Device (LNKA)
        {
            Name (_HID, EisaId ("PNP0C0F"))
            Name (_UID, One)
            Method (_STA, 0, NotSerialized)
            {
                Return (LSTA (\_SB.PCI0.ISA.PRQA))
            }
            Method (_PRS, 0, NotSerialized)
            {
                Return (PRSL)
            }
            Method (_CRS, 0, NotSerialized)
            {
                Return (LCRS (\_SB.PCI0.ISA.PRQA))
            }
            Method (_SRS, 1, NotSerialized)
            {
                \_SB.PCI0.ISA.PRQA = LSRS (Arg0)
            }
            Method (_DIS, 0, NotSerialized)
            {
                \_SB.PCI0.ISA.PRQA |= 0x80
            }
        }

        Device (LNKB)
        {
            Name (_HID, EisaId ("PNP0C0F"))
            Name (_UID, 0x02)
            Method (_STA, 0, NotSerialized)
            {
                Return (LSTA (\_SB.PCI0.ISA.PRQB))
            }
            Method (_PRS, 0, NotSerialized)
            {
                Return (PRSL)
            }
            Method (_CRS, 0, NotSerialized)
            {
                Return (LCRS (\_SB.PCI0.ISA.PRQB))
            }
            Method (_SRS, 1, NotSerialized)
            {
                \_SB.PCI0.ISA.PRQB = LSRS (Arg0)
            }
            Method (_DIS, 0, NotSerialized)
            {
                \_SB.PCI0.ISA.PRQB |= 0x80
            }
        }

        Device (LNKC)
        {
            Name (_HID, EisaId ("PNP0C0F"))
            Name (_UID, 0x03)
            Method (_STA, 0, NotSerialized)
            {
                Return (LSTA (\_SB.PCI0.ISA.PRQC))
            }
            Method (_PRS, 0, NotSerialized)
            {
                Return (PRSL)
            }
            Method (_CRS, 0, NotSerialized)
            {
                Return (LCRS (\_SB.PCI0.ISA.PRQC))
            }
            Method (_SRS, 1, NotSerialized)
            {
                \_SB.PCI0.ISA.PRQC = LSRS (Arg0)
            }
            Method (_DIS, 0, NotSerialized)
            {
                \_SB.PCI0.ISA.PRQC |= 0x80
            }
        }

        Device (LNKD)
        {
            Name (_HID, EisaId ("PNP0C0F"))
            Name (_UID, 0x04)
            Method (_STA, 0, NotSerialized)
            {
                Return (LSTA (\_SB.PCI0.ISA.PRQD))
            }
            Method (_PRS, 0, NotSerialized)
            {
                Return (PRSL)
            }
            Method (_CRS, 0, NotSerialized)
            {
                Return (LCRS (\_SB.PCI0.ISA.PRQD))
            }
            Method (_SRS, 1, NotSerialized)
            {
                \_SB.PCI0.ISA.PRQD = LSRS (Arg0)
            }
            Method (_DIS, 0, NotSerialized)
            {
                \_SB.PCI0.ISA.PRQD |= 0x80
            }
        }
    }
}
