package hugepage

import (
	"os"
	"syscall"
)

// advise issues madvise(MADV_HUGEPAGE). Errors are ignored on purpose: a
// kernel without THP, or a range that reaches past the heap mapping
// (ENOMEM, the mapped part is still advised), only means small pages.
func advise(start, n uintptr) {
	syscall.Syscall(syscall.SYS_MADVISE, start, n, syscall.MADV_HUGEPAGE)
}

func envDisabled() bool { return os.Getenv("FLOWSIFT_HUGEPAGES") == "0" }
