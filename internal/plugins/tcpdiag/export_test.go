package tcpdiag

// SetPlainAcks switches feedback's short path for plain ACKs (tests).
func SetPlainAcks(on bool) { plainAcks = on }
