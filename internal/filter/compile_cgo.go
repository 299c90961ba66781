//go:build cgo

package filter

/*
#cgo linux LDFLAGS: -ldl
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <stdint.h>
#include <pcap/pcap.h>

// libpcap is opened on first use (dlopen), not linked: only -F needs it,
// and loading it with its eight dependencies cost every run about 4 ms of
// start-up (docs/performance.md). These point into it once load succeeded.
static pcap_t *(*fopen_offline_p)(FILE *, char *);
static pcap_t *(*open_dead_p)(int, int);
static int (*compile_p)(pcap_t *, struct bpf_program *, const char *, int, bpf_u_int32);
static char *(*geterr_p)(pcap_t *);
static void (*close_p)(pcap_t *);
static void (*freecode_p)(struct bpf_program *);
static int (*offline_filter_p)(const struct bpf_program *, const struct pcap_pkthdr *, const u_char *);

// load opens libpcap under the names distributions give it; it returns
// NULL or a message (static storage) saying why not.
static const char *load(void) {
	static const char *names[] = {"libpcap.so.1", "libpcap.so.0.8", "libpcap.so.8", "libpcap.so",
		"libpcap.A.dylib", "libpcap.dylib", NULL};
	void *lib = NULL;
	for (int i = 0; names[i] != NULL && lib == NULL; i++)
		lib = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
	if (lib == NULL)
		return "libpcap not found (libpcap.so.1, libpcap.so.0.8, libpcap.so.8, libpcap.so, libpcap.dylib)";
	fopen_offline_p = dlsym(lib, "pcap_fopen_offline");
	open_dead_p = dlsym(lib, "pcap_open_dead");
	compile_p = dlsym(lib, "pcap_compile");
	geterr_p = dlsym(lib, "pcap_geterr");
	close_p = dlsym(lib, "pcap_close");
	freecode_p = dlsym(lib, "pcap_freecode");
	offline_filter_p = dlsym(lib, "pcap_offline_filter");
	if (!fopen_offline_p || !open_dead_p || !compile_p || !geterr_p || !close_p || !freecode_p || !offline_filter_p)
		return "the libpcap found lacks pcap_compile or its helpers";
	return NULL;
}

// open_file opens, as libpcap opens a capture file, an in-memory pcap file
// header of the given link type (LINKTYPE_) whose byte order is the
// host's or (swapped) the other one: the compiler then generates the
// code it generates for such a file (e.g. DLT_NULL address families of
// every OS, in the file's byte order).
static pcap_t *open_file(unsigned linktype, unsigned snaplen, int swapped, char *errbuf) {
	uint32_t w32[5] = {0xa1b2c3d4, 0, 0, snaplen, linktype};
	uint16_t ver[2] = {2, 4};
	unsigned char hdr[24];
	if (swapped) {
		for (int i = 0; i < 5; i++) w32[i] = __builtin_bswap32(w32[i]);
		for (int i = 0; i < 2; i++) ver[i] = __builtin_bswap16(ver[i]);
	}
	memcpy(hdr, &w32[0], 4);
	memcpy(hdr + 4, ver, 4);
	memcpy(hdr + 8, &w32[1], 16);
	FILE *fp = fmemopen(NULL, sizeof hdr, "w+");
	if (fp == NULL) {
		strcpy(errbuf, "fmemopen failed");
		return NULL;
	}
	if (fwrite(hdr, 1, sizeof hdr, fp) != sizeof hdr || fseek(fp, 0, SEEK_SET) != 0) {
		fclose(fp);
		strcpy(errbuf, "fmemopen failed");
		return NULL;
	}
	pcap_t *p = fopen_offline_p(fp, errbuf);
	if (p == NULL)
		fclose(fp);
	return p;
}

// compile runs pcap_compile for a capture file of link type linktype
// (file != 0; swapped: of the other byte order) or for a live capture
// (a dead handle of DLT_ value dlt, as libpcap compiles for an open
// interface); *err receives libpcap's message (freed by the caller).
static int compile(int file, int swapped, unsigned linktype, int dlt, int snaplen, const char *expr, struct bpf_program *prog, char **err) {
	char errbuf[PCAP_ERRBUF_SIZE];
	pcap_t *p = file ? open_file(linktype, snaplen, swapped, errbuf) : open_dead_p(dlt, snaplen);
	if (p == NULL) {
		*err = strdup(file ? errbuf : "pcap_open_dead failed");
		return -1;
	}
	// Netmask 0, as tcpdump uses when it does not know the network's.
	if (compile_p(p, prog, expr, 1, 0) < 0) {
		*err = strdup(geterr_p(p));
		close_p(p);
		return -1;
	}
	close_p(p);
	return 0;
}

static void freecode(struct bpf_program *prog) { freecode_p(prog); }

static struct bpf_insn *insn(struct bpf_program *prog, unsigned i) { return &prog->bf_insns[i]; }

static int reference_match(struct bpf_program *prog, const unsigned char *data, unsigned caplen, unsigned wirelen) {
	struct pcap_pkthdr h;
	h.ts.tv_sec = 0;
	h.ts.tv_usec = 0;
	h.caplen = caplen;
	h.len = wirelen;
	return offline_filter_p(prog, &h, data) != 0;
}
*/
import "C"

import (
	"errors"
	"sync"
	"unsafe"

	"flowsift/internal/capture"
)

// loadLibpcap opens libpcap once; its error says why filters cannot work.
var loadLibpcap = sync.OnceValue(func() error {
	if msg := C.load(); msg != nil {
		return errors.New("BPF filters need libpcap: " + C.GoString(msg))
	}
	return nil
})

// Ready reports why filter expressions cannot be compiled here (libpcap
// missing), or nil.
func Ready() error { return loadLibpcap() }

// Available reports whether this build can compile filter expressions.
const Available = true

// compile turns expr into a BPF program with libpcap's own compiler and
// optimiser, for a capture of link type linkType (LINKTYPE_) read from a
// file as libpcap reads it, or live.
func compile(expr string, linkType uint32, src Source, snaplen int) ([]Instruction, error) {
	if err := loadLibpcap(); err != nil {
		return nil, err
	}
	cexpr := C.CString(expr)
	defer C.free(unsafe.Pointer(cexpr))
	var prog C.struct_bpf_program
	var cerr *C.char
	file, swapped := C.int(1), C.int(0)
	switch src {
	case Live:
		file = 0
	case FileSwapped:
		swapped = 1
	}
	dlt := capture.DLT(linkType)
	if C.compile(file, swapped, C.uint(linkType), C.int(dlt), C.int(snaplen), cexpr, &prog, &cerr) < 0 {
		msg := C.GoString(cerr)
		C.free(unsafe.Pointer(cerr))
		return nil, errors.New(msg)
	}
	defer C.freecode(&prog)
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
	if err := loadLibpcap(); err != nil {
		panic(err)
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
