package tcpdiag

// SetPlainAcks switches feedback's short path for plain ACKs (tests).
func SetPlainAcks(on bool) { plainAcks = on }

// Syncs is the number of times so far the packet goroutine waited for an
// analysis goroutine.
func Syncs() int64 { return syncs.Load() }
