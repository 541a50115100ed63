; SPDX-License-Identifier: MIT
; A boot-sector program for the VGA tests (tests/guest/test_vga.py) and the
; benchmark (bench/vga.sh). It sets video modes through the BIOS and the
; registers, draws patterns that vga_patterns.py computes independently, and
; after each one says "VGATEST READY n" on the debug port (0x402), then
; waits for any byte on COM1 before going on. nasm -f bin.
;
; With -DBENCH it instead fills the 1024x768x32 linear framebuffer and the
; mode 0x12 planes over and over, reporting "FILL n" after each second of
; the RTC's seconds counter.
;
; With -DVNCBENCH (bench/vnc.py) it says "FILLING", then fills the
; 1024x768x32 linear framebuffer one colour a frame, writing '.' to the
; debug port after each,
; until a key arrives (INT 16h); it then says "KEYS" and repaints the whole
; framebuffer in the next colour on every key press, writing '+' after
; each.
;
; Modes, in order: 0x01 (40x25 text, 9x16 cells, a font of its own loaded
; through INT 10h AX=1110h), 0x12 (640x480x16 planar: write modes 2, 0 with set/reset
; and the bit mask, 1 copying through the latches), 0x13 (320x200x256),
; mode X (320x240x256 unchained, by registers), VBE 1024x768x32 with the
; linear framebuffer (found in the mode list, written in unreal mode), VBE
; 1024x768x4 (planar, through the banked 64 KiB window).

	bits 16
	org 0x7c00

DEBUG_PORT	equ 0x402
COM1		equ 0x3f8
SECTORS		equ 16
MODEINFO	equ 0x6000	; VBE mode info block
VBEINFO		equ 0x6200	; VBE controller info block

start:
	cli
	xor ax, ax
	mov ds, ax
	mov es, ax
	mov ss, ax
	mov sp, 0x7c00
	sti
	; the rest of the program: sectors 2.. to 0x7e00
	mov ax, 0x0200 + SECTORS
	mov cx, 0x0002
	xor dh, dh
	mov bx, 0x7e00
	int 0x13
	jc fail
	jmp main

fail:
	mov si, msg_fail
	call say
.h:	hlt
	jmp .h

; print the NUL-terminated string at si on the debug port
say:
	push ax
	push dx
	mov dx, DEBUG_PORT
.l:	lodsb
	test al, al
	jz .d
	out dx, al
	jmp .l
.d:	pop dx
	pop ax
	ret

msg_fail db "VGATEST FAIL", 10, 0

	times 510 - ($ - $$) db 0
	dw 0xaa55

; ---------------------------------------------------------------------------
main:
%ifdef BENCH
	jmp bench
%endif
%ifdef VNCBENCH
	jmp vncbench
%endif
	call text40
	mov byte [ready_n], '1'
	call ready
	call mode12
	mov byte [ready_n], '2'
	call ready
	call mode13
	mov byte [ready_n], '3'
	call ready
	call modex
	mov byte [ready_n], '4'
	call ready
	call vbe32
	jc fail
	mov byte [ready_n], '5'
	call ready
	call vbe4
	jc fail
	mov byte [ready_n], '6'
	call ready
	mov si, msg_done
	call say
.h:	hlt
	jmp .h

; announce, then wait for a byte on COM1
ready:
	mov si, msg_ready
	call say
	mov dx, COM1 + 5
.w:	in al, dx
	test al, 1
	jz .w
	mov dx, COM1
	in al, dx
	ret

msg_ready db "VGATEST READY "
ready_n db "0", 10, 0
msg_done db "VGATEST DONE", 10, 0

; out dx(index port), al(index), ah(value)
%macro wreg 3
	mov dx, %1
	mov ax, (%3 << 8) | %2
	out dx, ax
%endmacro

; AC palette i = i, DAC i = (4i, 63-4i, 7i & 63) for i < 16
palette16:
	mov dx, 0x3da
	in al, dx
	mov dx, 0x3c0
	xor cx, cx
.ac:	mov al, cl
	out dx, al
	out dx, al
	inc cx
	cmp cx, 16
	jb .ac
	mov al, 0x20		; palette address source: display on
	out dx, al
	mov dx, 0x3c8
	xor al, al
	out dx, al
	inc dx
	xor cx, cx
.dac:	mov al, cl
	shl al, 2
	out dx, al
	mov al, 63
	sub al, cl
	sub al, cl
	sub al, cl
	sub al, cl
	out dx, al
	mov al, cl
	mov bl, 7
	mul bl
	and al, 63
	out dx, al
	inc cx
	cmp cx, 16
	jb .dac
	ret

FONT	equ 0x1000	; 4 KiB below the stack, clear of the program

; Mode 0x01: a font where row r of character c is (c + 37 r) & 255, loaded
; by the BIOS into plane 2; cell (row, col) holds character
; (40 row + col) & 255 with foreground col & 15 and background
; (row + col) % 7 + 1; the cursor off.
text40:
	mov ax, 0x0001
	int 0x10
	xor di, di
	xor cx, cx		; character
.ch:	xor bx, bx		; glyph row
.gr:	mov al, bl
	mov ah, 37
	mul ah
	add al, cl
	mov [FONT + di], al
	inc di
	inc bx
	cmp bx, 16
	jb .gr
	inc cx
	cmp cx, 256
	jb .ch
	push es
	push bp
	xor ax, ax
	mov es, ax
	mov bp, FONT
	mov ax, 0x1110
	mov bx, 0x1000		; 16 bytes a character, block 0
	mov cx, 256
	xor dx, dx
	int 0x10
	pop bp
	pop es
	mov ah, 0x01
	mov cx, 0x2000		; cursor off
	int 0x10
	call palette16
	push es
	mov ax, 0xb800
	mov es, ax
	xor di, di
	xor bx, bx		; row
.row:	xor cx, cx		; column
.col:	mov al, bl
	mov ah, 40
	mul ah
	add ax, cx
	stosb			; character (40 row + col) & 255
	mov ax, bx
	add ax, cx
	mov dl, 7
	div dl
	mov al, ah
	inc al
	shl al, 4
	mov dl, cl
	and dl, 15
	or al, dl
	stosb			; attribute
	inc cx
	cmp cx, 40
	jb .col
	inc bx
	cmp bx, 25
	jb .row
	pop es
	ret

; Mode 0x12: colour ((x >> 3) + y) & 15 by write mode 2, then the diagonal
; x == y in colour 15 by set/reset through the bit mask, then rows 0-39
; copied to rows 440-479 by write mode 1.
mode12:
	mov ax, 0x0012
	int 0x10
	call palette16
	mov ax, 0xa000
	mov es, ax
	wreg 0x3ce, 5, 2	; write mode 2
	wreg 0x3ce, 8, 0xff
	wreg 0x3c4, 2, 0x0f
	xor di, di
	xor bx, bx		; y
.row:	xor cx, cx		; byte column
.col:	mov al, cl
	add al, bl
	and al, 15
	mov ah, [es:di]		; load the latches
	stosb
	inc cx
	cmp cx, 80
	jb .col
	inc bx
	cmp bx, 480
	jb .row
	; diagonal: write mode 0, set/reset 15 on every plane
	wreg 0x3ce, 5, 0
	wreg 0x3ce, 0, 0x0f
	wreg 0x3ce, 1, 0x0f
	xor bx, bx
.diag:	mov ax, bx
	mov cx, 80
	mul cx
	mov di, ax
	mov ax, bx
	shr ax, 3
	add di, ax		; y * 80 + x / 8
	mov cl, bl
	and cl, 7
	mov ah, 0x80
	shr ah, cl
	mov al, 8
	mov dx, 0x3ce
	out dx, ax		; bit mask
	mov al, [es:di]
	mov [es:di], al
	inc bx
	cmp bx, 480
	jb .diag
	wreg 0x3ce, 1, 0
	wreg 0x3ce, 8, 0xff
	; write mode 1: rows 0..39 to rows 440..479
	wreg 0x3ce, 5, 1
	push ds
	mov ax, 0xa000
	mov ds, ax
	xor si, si
	mov di, 440 * 80
	mov cx, 40 * 80
	rep movsb
	pop ds
	wreg 0x3ce, 5, 0
	ret

; DAC i = (i & 63, (i >> 2) & 63, 3i & 63) for all 256 entries
palette256:
	mov dx, 0x3c8
	xor al, al
	out dx, al
	inc dx
	xor cx, cx
.l:	mov al, cl
	and al, 63
	out dx, al
	mov al, cl
	shr al, 2
	out dx, al
	mov al, cl
	mov ah, 3
	mul ah
	and al, 63
	out dx, al
	inc cx
	cmp cx, 256
	jb .l
	ret

; Mode 0x13: colour (x + 2y) & 255
mode13:
	mov ax, 0x0013
	int 0x10
	call palette256
	mov ax, 0xa000
	mov es, ax
	xor di, di
	xor bx, bx
.row:	xor cx, cx
	mov al, bl
	add al, bl
.col:	stosb
	inc al
	inc cx
	cmp cx, 320
	jb .col
	inc bx
	cmp bx, 200
	jb .row
	ret

; Mode X: mode 0x13 unchained, 320x240 (480 lines, each doubled);
; colour (x ^ y) & 255, plane by plane.
modex:
	wreg 0x3c4, 4, 0x06	; chain-4 off, odd/even off
	wreg 0x3c4, 0, 0x01	; synchronous reset around the clock change
	mov dx, 0x3c2
	mov al, 0xe3
	out dx, al
	wreg 0x3c4, 0, 0x03
	mov dx, 0x3d4
	mov al, 0x11
	out dx, al
	inc dx
	in al, dx
	and al, 0x7f		; unlock CRTC 0-7
	out dx, al
	wreg 0x3d4, 0x06, 0x0d
	wreg 0x3d4, 0x07, 0x3e
	wreg 0x3d4, 0x09, 0x41
	wreg 0x3d4, 0x10, 0xea
	wreg 0x3d4, 0x11, 0xac
	wreg 0x3d4, 0x12, 0xdf
	wreg 0x3d4, 0x14, 0x00	; doubleword mode off
	wreg 0x3d4, 0x15, 0xe7
	wreg 0x3d4, 0x16, 0x06
	wreg 0x3d4, 0x17, 0xe3	; byte mode
	mov ax, 0xa000
	mov es, ax
	xor bp, bp		; plane
.plane:	mov cx, bp
	mov ah, 1
	shl ah, cl
	mov al, 2
	mov dx, 0x3c4
	out dx, ax		; map mask
	xor di, di
	xor bx, bx		; y
.row:	xor cx, cx		; x / 4
.col:	mov ax, cx
	shl ax, 2
	add ax, bp		; x
	xor al, bl
	stosb
	inc cx
	cmp cx, 80
	jb .col
	inc bx
	cmp bx, 240
	jb .row
	inc bp
	cmp bp, 4
	jb .plane
	ret

; unreal mode: FS reaches all 4 GiB with 32-bit offsets
unreal:
	cli
	lgdt [gdt_desc]
	mov eax, cr0
	or al, 1
	mov cr0, eax
	jmp .pm
.pm:	mov bx, 8
	mov fs, bx
	and al, 0xfe
	mov cr0, eax
	jmp .rm
.rm:	xor ax, ax
	mov fs, ax
	sti
	ret

gdt:	dq 0
	dq 0x00cf92000000ffff	; flat data
gdt_desc:
	dw 15
	dd gdt

; Find 1024x768 at [want_bpp] bits per pixel in the VBE mode list, set it
; (with the LFB when [want_lfb] is 0x4000); CF on failure. Returns the LFB
; address in esi.
vbe_set:
	push es
	xor ax, ax
	mov es, ax
	mov di, VBEINFO
	mov dword [di], 'VBE2'
	mov ax, 0x4f00
	int 0x10
	cmp ax, 0x004f
	jne .bad
	lfs si, [VBEINFO + 14]	; video mode list
.next:	mov cx, [fs:si]
	add si, 2
	cmp cx, 0xffff
	je .bad
	mov di, MODEINFO
	mov ax, 0x4f01
	push si
	int 0x10
	pop si
	cmp ax, 0x004f
	jne .next
	cmp word [MODEINFO + 18], 1024
	jne .next
	cmp word [MODEINFO + 20], 768
	jne .next
	mov al, [want_bpp]
	cmp [MODEINFO + 25], al
	jne .next
	mov bx, cx
	or bx, [want_lfb]
	mov ax, 0x4f02
	int 0x10
	cmp ax, 0x004f
	jne .bad
	mov esi, [MODEINFO + 40]
	xor ax, ax
	mov fs, ax
	pop es
	clc
	ret
.bad:	xor ax, ax
	mov fs, ax
	pop es
	stc
	ret

want_bpp db 32
want_lfb dw 0x4000
bank	dw 0xffff

; VBE 1024x768x4 (planar, 128 bytes a line in each plane): colour
; ((x >> 3) + (y >> 2)) & 15 by write mode 2 a byte at a time through the
; 64 KiB window at 0xA0000, banked by INT 10h AX=4F05, then the diagonal
; x == y in colour 15 through the bit mask.
vbe4:
	mov byte [want_bpp], 4
	mov word [want_lfb], 0
	call vbe_set
	jc .out
	call palette16
	mov ax, 0xa000
	mov es, ax
	wreg 0x3ce, 5, 2	; write mode 2
	wreg 0x3ce, 8, 0xff
	wreg 0x3c4, 2, 0x0f
	xor ebx, ebx		; y
.row:	xor ecx, ecx		; byte column
.col:	mov eax, ebx
	shl eax, 7
	add eax, ecx
	call vbe4_window
	mov al, cl
	mov dl, bl
	shr dl, 2
	add al, dl
	and al, 15
	mov ah, [es:di]		; load the latches
	mov [es:di], al
	inc ecx
	cmp ecx, 128
	jb .col
	inc ebx
	cmp ebx, 768
	jb .row
	xor ebx, ebx		; the diagonal
.diag:	mov eax, ebx
	shl eax, 7
	mov edx, ebx
	shr edx, 3
	add eax, edx		; y * 128 + x / 8
	call vbe4_window
	mov cl, bl
	and cl, 7
	mov ah, 0x80
	shr ah, cl
	mov al, 8
	mov dx, 0x3ce
	out dx, ax		; bit mask
	mov al, [es:di]
	mov byte [es:di], 15
	inc ebx
	cmp ebx, 768
	jb .diag
	wreg 0x3ce, 8, 0xff
	wreg 0x3ce, 5, 0
	clc
.out:	ret

; eax: a plane offset. Window A moves to bank eax >> 16 (64 KiB
; granularity) when that changes; di is the offset in the window.
vbe4_window:
	mov di, ax
	shr eax, 16
	cmp ax, [bank]
	je .same
	mov [bank], ax
	push ebx
	push ecx
	mov dx, ax
	mov ax, 0x4f05
	xor bx, bx		; set window A
	int 0x10
	pop ecx
	pop ebx
.same:	ret

; VBE 1024x768x32: ((3x & 255) << 16) | ((y & 255) << 8) | ((x + y) & 255)
vbe32:
	call vbe_set
	jc .out
	call unreal
	mov edi, esi
	xor ebx, ebx		; y
.row:	xor ecx, ecx		; x
.col:	lea eax, [ecx + ecx * 2]
	and eax, 0xff
	shl eax, 8
	mov al, bl
	shl eax, 8
	mov dl, cl
	add dl, bl
	mov al, dl
	mov [fs:edi], eax
	add edi, 4
	inc ecx
	cmp ecx, 1024
	jb .col
	inc ebx
	cmp ebx, 768
	jb .row
	clc
.out:	ret

%ifdef VNCBENCH
; ---------------------------------------------------------------------------
; ES and FS with 4 GiB limits, again before every fill: a BIOS interrupt
; handler may have loaded them in protected mode and left 64 KiB limits.
flat_es:
	push bx
	cli
	lgdt [gdt_desc]
	mov eax, cr0
	or al, 1
	mov cr0, eax
	jmp .pm
.pm:	mov bx, 8
	mov es, bx
	mov fs, bx
	and al, 0xfe
	mov cr0, eax
	jmp .rm
.rm:	xor ax, ax
	mov es, ax
	mov fs, ax
	sti
	pop bx
	ret

; the whole LFB (esi) in colour ebp * 0x010305, then mark on the debug port
vnc_fill:
	call flat_es
	mov edi, esi
	mov eax, ebp
	imul eax, 0x010305
	mov ecx, 1024 * 768
	a32 rep stosd
	mov dx, DEBUG_PORT
	mov al, bl
	out dx, al
	ret

vncbench:
	call vbe_set
	jc fail
	mov si, msg_filling
	call say
	xor ebp, ebp
.fill:	inc ebp
	mov bl, '.'
	call vnc_fill
	mov ah, 1
	int 0x16
	jz .fill
	xor ah, ah
	int 0x16
	mov si, msg_keys
	call say
.key:	xor ah, ah
	int 0x16
	inc ebp
	mov bl, '+'
	call vnc_fill
	jmp .key

msg_filling db "FILLING", 10, 0
msg_keys db 10, "KEYS", 10, 0
%endif

%ifdef BENCH
; ---------------------------------------------------------------------------
; Fill the whole 1024x768x32 LFB with one colour per frame (dword stores),
; then fill mode 0x12 by write mode 2 a frame at a time, then mode 0x13
; (rep stosw over the 64000-byte chain-4 window), each for 5 RTC seconds,
; reporting the frame count: "LFB n", "PLANAR n" and "MODE13 n".
rtc_sec:
	mov al, 0
	out 0x70, al
	in al, 0x71
	ret

; wait for the RTC's seconds to change, then count frames for 5 seconds
%macro timed 1
	call rtc_sec
	mov [sec], al
%%w:	call rtc_sec
	cmp al, [sec]
	je %%w
	mov [sec], al
	mov byte [left], 5
	xor ebp, ebp
%%frame:
	call %1
	inc ebp
	call rtc_sec
	cmp al, [sec]
	je %%frame
	mov [sec], al
	dec byte [left]
	jnz %%frame
%endmacro

fill_lfb:
	mov edi, esi
	mov eax, ebp
	imul eax, 0x010305
	mov ecx, 1024 * 768
	a32 rep stosd		; es = 0: unreal, flat
	ret

fill_planar:
	xor di, di
	mov ax, bp
	and al, 15
	mov cx, 640 * 480 / 8
.l:	mov ah, [es:di]
	stosb
	loop .l
	ret

fill_13:
	xor di, di
	mov ax, bp
	mov ah, al
	mov cx, 320 * 200 / 2
	rep stosw
	ret

print_num:			; eax, decimal
	mov ebx, 10
	xor cx, cx
.d:	xor edx, edx
	div ebx
	push dx
	inc cx
	test eax, eax
	jnz .d
	mov dx, DEBUG_PORT
.p:	pop ax
	add al, '0'
	out dx, al
	loop .p
	mov al, 10
	out dx, al
	ret

bench:
	call vbe_set
	jc fail
	call unreal
	; ES with a 4 GiB limit too, for rep stosd
	cli
	lgdt [gdt_desc]
	mov eax, cr0
	or al, 1
	mov cr0, eax
	jmp .pm
.pm:	mov bx, 8
	mov es, bx
	and al, 0xfe
	mov cr0, eax
	jmp .rm
.rm:	xor ax, ax
	mov es, ax
	sti
	timed fill_lfb
	mov si, msg_lfb
	call say
	mov eax, ebp
	call print_num
	mov ax, 0x0012
	int 0x10
	mov ax, 0xa000
	mov es, ax
	wreg 0x3ce, 5, 2
	wreg 0x3ce, 8, 0xff
	wreg 0x3c4, 2, 0x0f
	timed fill_planar
	mov si, msg_planar
	call say
	mov eax, ebp
	call print_num
	mov ax, 0x0013
	int 0x10
	mov ax, 0xa000
	mov es, ax
	timed fill_13
	mov si, msg_13
	call say
	mov eax, ebp
	call print_num
	mov si, msg_done
	call say
.h:	hlt
	jmp .h

sec	db 0
left	db 0
msg_lfb db "LFB ", 0
msg_planar db "PLANAR ", 0
msg_13	db "MODE13 ", 0
%endif

	times 512 * (SECTORS + 1) - ($ - $$) db 0
