//go:build cgo

package filter

/*
#cgo LDFLAGS: -lpcap
#include <stdlib.h>
#include <string.h>
#include <pcap/pcap.h>

// compile runs pcap_compile on a dead handle of link type dlt; *err
// receives libpcap's message (freed by the caller) when it fails.
static int compile(int dlt, int snaplen, const char *expr, struct bpf_program *prog, char **err) {
	pcap_t *p = pcap_open_dead(dlt, snaplen);
	if (p == NULL) {
		*err = strdup("pcap_open_dead failed");
		return -1;
	}
	// Netmask 0, as tcpdump uses when it does not know the network's.
	if (pcap_compile(p, prog, expr, 1, 0) < 0) {
		*err = strdup(pcap_geterr(p));
		pcap_close(p);
		return -1;
	}
	pcap_close(p);
	return 0;
}

static struct bpf_insn *insn(struct bpf_program *prog, unsigned i) { return &prog->bf_insns[i]; }

static int reference_match(struct bpf_program *prog, const unsigned char *data, unsigned caplen, unsigned wirelen) {
	struct pcap_pkthdr h;
	h.ts.tv_sec = 0;
	h.ts.tv_usec = 0;
	h.caplen = caplen;
	h.len = wirelen;
	return pcap_offline_filter(prog, &h, data) != 0;
}
*/
import "C"

import (
	"errors"
	"unsafe"
)

// Available reports whether this build can compile filter expressions.
const Available = true

// compile turns expr into a BPF program for the DLT_ link type dlt, with
// libpcap's own compiler and optimiser.
func compile(expr string, dlt uint32, snaplen int) ([]Instruction, error) {
	cexpr := C.CString(expr)
	defer C.free(unsafe.Pointer(cexpr))
	var prog C.struct_bpf_program
	var cerr *C.char
	if C.compile(C.int(dlt), C.int(snaplen), cexpr, &prog, &cerr) < 0 {
		msg := C.GoString(cerr)
		C.free(unsafe.Pointer(cerr))
		return nil, errors.New(msg)
	}
	defer C.pcap_freecode(&prog)
	ins := make([]Instruction, prog.bf_len)
	for i := range ins {
		in := C.insn(&prog, C.uint(i))
		ins[i] = Instruction{Code: uint16(in.code), Jt: uint8(in.jt), Jf: uint8(in.jf), K: uint32(in.k)}
	}
	return ins, nil
}

// referenceMatch runs ins through libpcap's own interpreter
// (pcap_offline_filter); the tests compare Match against it.
func referenceMatch(ins []Instruction, data []byte, wireLen uint32) bool {
	if len(ins) == 0 {
		return true
	}
	cins := (*C.struct_bpf_insn)(C.malloc(C.size_t(len(ins)) * C.size_t(unsafe.Sizeof(C.struct_bpf_insn{}))))
	defer C.free(unsafe.Pointer(cins))
	arr := unsafe.Slice(cins, len(ins))
	for i, in := range ins {
		arr[i].code = C.u_short(in.Code)
		arr[i].jt = C.u_char(in.Jt)
		arr[i].jf = C.u_char(in.Jf)
		arr[i].k = C.bpf_u_int32(in.K)
	}
	prog := C.struct_bpf_program{bf_len: C.u_int(len(ins)), bf_insns: cins}
	buf := C.CBytes(append(data[:len(data):len(data)], 0)) // never a nil pointer
	defer C.free(buf)
	return C.reference_match(&prog, (*C.uchar)(buf), C.uint(len(data)), C.uint(wireLen)) != 0
}
