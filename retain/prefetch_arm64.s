#include "textflag.h"

// func prefetch64(p *uint64)
TEXT ·prefetch64(SB), NOSPLIT|NOFRAME, $0-8
	MOVD p+0(FP), R0
	PRFM (R0), PLDL1KEEP
	RET

// func prefetch32(p *uint32)
TEXT ·prefetch32(SB), NOSPLIT|NOFRAME, $0-8
	MOVD p+0(FP), R0
	PRFM (R0), PLDL1KEEP
	RET
