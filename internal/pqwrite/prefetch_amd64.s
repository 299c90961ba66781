#include "textflag.h"

// func prefetchW(addrs []uintptr)
TEXT ·prefetchW(SB), NOSPLIT, $0-24
	MOVQ addrs_base+0(FP), SI
	MOVQ addrs_len+8(FP), CX
	TESTQ CX, CX
	JZ done
loop:
	MOVQ (SI), AX
	// PREFETCHW (AX), 0F 0D /1: the Go assembler has no mnemonic for it.
	BYTE $0x0F; BYTE $0x0D; BYTE $0x08
	ADDQ $8, SI
	DECQ CX
	JNZ loop
done:
	RET
