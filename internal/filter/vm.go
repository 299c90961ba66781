// Package filter applies BPF filter expressions with tcpdump's syntax and
// semantics. Expressions are compiled by libpcap itself (pcap_compile,
// through cgo; see compile_cgo.go and docs/filters.md for why), the
// resulting classic BPF program runs in a small interpreter here, so that
// matching a packet costs no cgo call and allocates nothing. The same
// program can be attached to a Linux packet socket (live capture).
package filter

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Instruction is one classic BPF instruction (struct bpf_insn).
type Instruction struct {
	Code   uint16
	Jt, Jf uint8
	K      uint32
}

// Program is a validated classic BPF program.
type Program struct {
	ins []Instruction
}

// Instructions returns the program (for attaching it to a socket).
func (p *Program) Instructions() []Instruction { return p.ins }

// Instruction classes and fields (bpf.h).
const (
	clsLD   = 0x00
	clsLDX  = 0x01
	clsST   = 0x02
	clsSTX  = 0x03
	clsALU  = 0x04
	clsJMP  = 0x05
	clsRET  = 0x06
	clsMISC = 0x07

	szW = 0x00
	szH = 0x08
	szB = 0x10

	mdIMM = 0x00
	mdABS = 0x20
	mdIND = 0x40
	mdMEM = 0x60
	mdLEN = 0x80
	mdMSH = 0xa0

	aluADD = 0x00
	aluSUB = 0x10
	aluMUL = 0x20
	aluDIV = 0x30
	aluOR  = 0x40
	aluAND = 0x50
	aluLSH = 0x60
	aluRSH = 0x70
	aluNEG = 0x80
	aluMOD = 0x90
	aluXOR = 0xa0

	jmpJA   = 0x00
	jmpJEQ  = 0x10
	jmpJGT  = 0x20
	jmpJGE  = 0x30
	jmpJSET = 0x40

	srcK = 0x00
	srcX = 0x08

	retA = 0x10

	miscTAX = 0x00
	miscTXA = 0x80

	memWords = 16
)

// knownCodes are the instructions Match executes (libpcap's bpf_filter
// aborts on any other).
var knownCodes = func() map[uint16]bool {
	m := map[uint16]bool{
		clsRET | srcK: true, clsRET | retA: true,
		clsLD | szW | mdABS: true, clsLD | szH | mdABS: true, clsLD | szB | mdABS: true,
		clsLD | szW | mdLEN: true, clsLDX | szW | mdLEN: true,
		clsLD | szW | mdIND: true, clsLD | szH | mdIND: true, clsLD | szB | mdIND: true,
		clsLDX | szB | mdMSH: true, clsLD | mdIMM: true, clsLDX | mdIMM: true,
		clsLD | mdMEM: true, clsLDX | mdMEM: true, clsST: true, clsSTX: true,
		clsJMP | jmpJA: true, clsALU | aluNEG: true, clsMISC | miscTAX: true, clsMISC | miscTXA: true,
	}
	for _, j := range []uint16{jmpJGT, jmpJGE, jmpJEQ, jmpJSET} {
		m[clsJMP|j|srcK], m[clsJMP|j|srcX] = true, true
	}
	for _, op := range []uint16{aluADD, aluSUB, aluMUL, aluDIV, aluMOD, aluAND, aluOR, aluXOR, aluLSH, aluRSH} {
		m[clsALU|op|srcK], m[clsALU|op|srcX] = true, true
	}
	return m
}()

// NewProgram validates ins like libpcap's bpf_validate (jumps stay inside
// the program, scratch memory indexes exist, no constant division by
// zero, the last instruction returns), so that Match never fails on an
// instruction and never panics.
func NewProgram(ins []Instruction) (*Program, error) {
	n := len(ins)
	if n == 0 {
		return nil, errors.New("empty BPF program")
	}
	for i, in := range ins {
		bad := func(why string) error { return fmt.Errorf("BPF instruction %d (code %#x): %s", i, in.Code, why) }
		if !knownCodes[in.Code] {
			return nil, bad("unknown instruction")
		}
		switch in.Code & 0x07 {
		case clsLD, clsLDX:
			switch in.Code & 0xe0 {
			case mdMEM:
				if in.K >= memWords {
					return nil, bad("scratch memory index out of range")
				}
			case mdIMM, mdABS, mdIND, mdLEN, mdMSH:
			default:
				return nil, bad("unknown addressing mode")
			}
		case clsST, clsSTX:
			if in.K >= memWords {
				return nil, bad("scratch memory index out of range")
			}
		case clsALU:
			switch in.Code & 0xf0 {
			case aluADD, aluSUB, aluMUL, aluOR, aluAND, aluXOR, aluNEG:
			case aluLSH, aluRSH:
				if in.Code&srcX == srcK && in.K >= 32 {
					return nil, bad("shift by 32 or more")
				}
			case aluDIV, aluMOD:
				if in.Code&srcX == srcK && in.K == 0 {
					return nil, bad("division by zero")
				}
			default:
				return nil, bad("unknown ALU operation")
			}
		case clsJMP:
			switch in.Code & 0xf0 {
			case jmpJA:
				if uint64(in.K) >= uint64(n-i-1) {
					return nil, bad("jump out of the program")
				}
			case jmpJEQ, jmpJGT, jmpJGE, jmpJSET:
				if int(in.Jt) >= n-i-1 || int(in.Jf) >= n-i-1 {
					return nil, bad("jump out of the program")
				}
			default:
				return nil, bad("unknown jump")
			}
		case clsRET, clsMISC:
		}
	}
	if ins[n-1].Code&0x07 != clsRET {
		return nil, errors.New("BPF program does not end with a return")
	}
	return &Program{ins: append([]Instruction(nil), ins...)}, nil
}

// Match runs the program on a frame of which data (the captured bytes)
// is available and wireLen was the length on the wire, with libpcap's
// bpf_filter semantics: a load beyond the captured bytes or a division by
// zero rejects the packet; a non-zero return value accepts it.
func (p *Program) Match(data []byte, wireLen uint32) bool {
	var a, x uint32
	var mem [memWords]uint32
	buflen := uint32(len(data))
	if uint64(len(data)) > 0xffffffff {
		buflen = 0xffffffff
	}
	ins := p.ins
	for pc := 0; pc < len(ins); pc++ {
		in := &ins[pc]
		switch in.Code {
		case clsRET | srcK:
			return in.K != 0
		case clsRET | retA:
			return a != 0
		case clsLD | szW | mdABS:
			k := in.K
			if k > buflen || 4 > buflen-k {
				return false
			}
			a = binary.BigEndian.Uint32(data[k:])
		case clsLD | szH | mdABS:
			k := in.K
			if k > buflen || 2 > buflen-k {
				return false
			}
			a = uint32(binary.BigEndian.Uint16(data[k:]))
		case clsLD | szB | mdABS:
			k := in.K
			if k >= buflen {
				return false
			}
			a = uint32(data[k])
		case clsLD | szW | mdLEN:
			a = wireLen
		case clsLDX | szW | mdLEN:
			x = wireLen
		case clsLD | szW | mdIND:
			if in.K > buflen || x > buflen-in.K || 4 > buflen-in.K-x {
				return false
			}
			a = binary.BigEndian.Uint32(data[x+in.K:])
		case clsLD | szH | mdIND:
			if in.K > buflen || x > buflen-in.K || 2 > buflen-in.K-x {
				return false
			}
			a = uint32(binary.BigEndian.Uint16(data[x+in.K:]))
		case clsLD | szB | mdIND:
			if in.K >= buflen || x >= buflen-in.K {
				return false
			}
			a = uint32(data[x+in.K])
		case clsLDX | szB | mdMSH:
			if in.K >= buflen {
				return false
			}
			x = uint32(data[in.K]&0xf) << 2
		case clsLD | mdIMM:
			a = in.K
		case clsLDX | mdIMM:
			x = in.K
		case clsLD | mdMEM:
			a = mem[in.K]
		case clsLDX | mdMEM:
			x = mem[in.K]
		case clsST:
			mem[in.K] = a
		case clsSTX:
			mem[in.K] = x
		case clsJMP | jmpJA:
			pc += int(in.K)
		case clsJMP | jmpJGT | srcK:
			pc += jump(a > in.K, in)
		case clsJMP | jmpJGE | srcK:
			pc += jump(a >= in.K, in)
		case clsJMP | jmpJEQ | srcK:
			pc += jump(a == in.K, in)
		case clsJMP | jmpJSET | srcK:
			pc += jump(a&in.K != 0, in)
		case clsJMP | jmpJGT | srcX:
			pc += jump(a > x, in)
		case clsJMP | jmpJGE | srcX:
			pc += jump(a >= x, in)
		case clsJMP | jmpJEQ | srcX:
			pc += jump(a == x, in)
		case clsJMP | jmpJSET | srcX:
			pc += jump(a&x != 0, in)
		case clsALU | aluADD | srcX:
			a += x
		case clsALU | aluSUB | srcX:
			a -= x
		case clsALU | aluMUL | srcX:
			a *= x
		case clsALU | aluDIV | srcX:
			if x == 0 {
				return false
			}
			a /= x
		case clsALU | aluMOD | srcX:
			if x == 0 {
				return false
			}
			a %= x
		case clsALU | aluAND | srcX:
			a &= x
		case clsALU | aluOR | srcX:
			a |= x
		case clsALU | aluXOR | srcX:
			a ^= x
		case clsALU | aluLSH | srcX:
			if x < 32 {
				a <<= x
			} else {
				a = 0
			}
		case clsALU | aluRSH | srcX:
			if x < 32 {
				a >>= x
			} else {
				a = 0
			}
		case clsALU | aluADD | srcK:
			a += in.K
		case clsALU | aluSUB | srcK:
			a -= in.K
		case clsALU | aluMUL | srcK:
			a *= in.K
		case clsALU | aluDIV | srcK:
			a /= in.K // validated: K != 0
		case clsALU | aluMOD | srcK:
			a %= in.K
		case clsALU | aluAND | srcK:
			a &= in.K
		case clsALU | aluOR | srcK:
			a |= in.K
		case clsALU | aluXOR | srcK:
			a ^= in.K
		case clsALU | aluLSH | srcK:
			a <<= in.K
		case clsALU | aluRSH | srcK:
			a >>= in.K
		case clsALU | aluNEG:
			a = -a
		case clsMISC | miscTAX:
			x = a
		case clsMISC | miscTXA:
			a = x
		default:
			// libpcap's bpf_filter rejects the packet on an instruction
			// it does not know.
			return false
		}
	}
	return false
}

func jump(cond bool, in *Instruction) int {
	if cond {
		return int(in.Jt)
	}
	return int(in.Jf)
}
