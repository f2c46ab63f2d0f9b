#include "textflag.h"

// func prefetch64(p *uint64)
TEXT ·prefetch64(SB), NOSPLIT|NOFRAME, $0-8
	MOVQ p+0(FP), AX
	PREFETCHT0 (AX)
	RET

// func prefetch32(p *uint32)
TEXT ·prefetch32(SB), NOSPLIT|NOFRAME, $0-8
	MOVQ p+0(FP), AX
	PREFETCHT0 (AX)
	RET
