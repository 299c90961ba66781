//go:build cgo && linux

package timerslack

/*
#include <sys/prctl.h>

__attribute__((constructor)) static void flowsift_timerslack(void) {
	prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
}
*/
import "C"

const enabled = true
