#include "textflag.h"

// PREFETCHW (AX) is 0F 0D /1: the Go assembler has no mnemonic for it.
#define PREFETCHW_AX BYTE $0x0F; BYTE $0x0D; BYTE $0x08

// func Write(addrs []uintptr)
TEXT ·Write(SB), NOSPLIT, $0-24
	MOVQ addrs_base+0(FP), SI
	MOVQ addrs_len+8(FP), CX
	TESTQ CX, CX
	JZ done
loop:
	MOVQ (SI), AX
	PREFETCHW_AX
	ADDQ $8, SI
	DECQ CX
	JNZ loop
done:
	RET

// func WriteRange(addr, n uintptr)
TEXT ·WriteRange(SB), NOSPLIT, $0-16
	MOVQ addr+0(FP), AX
	MOVQ n+8(FP), CX
	TESTQ CX, CX
	JZ rdone
	// From the first line to the last one (the top line when addr+n-1
	// wraps around); the loop ends on equality, so no address overflows.
	LEAQ -1(AX)(CX*1), DX
	CMPQ DX, AX
	JAE rnowrap
	MOVQ $-1, DX
rnowrap:
	ANDQ $~63, AX
	ANDQ $~63, DX
rloop:
	PREFETCHW_AX
	CMPQ AX, DX
	JEQ rdone
	ADDQ $64, AX
	JMP rloop
rdone:
	RET
