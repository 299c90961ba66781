//go:build linux

package live

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"flowsift/internal/capture"
	"flowsift/internal/filter"
)

const (
	// blockHeadroom is what a frame needs in a block besides its bytes:
	// block descriptor, tpacket3_hdr, sockaddr_ll, alignment.
	blockHeadroom = 256
	frameSize     = 1 << 11 // only a unit for the kernel's consistency check in V3
	// blockTimeout is how long (ms) the kernel fills a block before it
	// hands it over anyway: the latency of a quiet link.
	blockTimeout = 100
	pollTimeout  = 100 // ms; also the period of ErrIdle on a quiet link

	tpStatusUser          = 1
	tpStatusVLANValid     = 1 << 4
	tpStatusVLANTPIDValid = 1 << 6
	tpStatusHWTimestamp   = 1 << 31

	hdrLen  = unix.SizeofTpacket3Hdr // struct tpacket3_hdr, TPACKET_ALIGNed
	sllLen  = 16                     // LINKTYPE_LINUX_SLL header
	ethPAll = 0x0003

	arphrdEther    = 1
	arphrdLoopback = 772
	arphrdNone     = 0xfffe

	linkEthernet = 1   // LINKTYPE_ETHERNET
	linkRaw      = 101 // LINKTYPE_RAW
	linkSLL      = 113 // LINKTYPE_LINUX_SLL
)

// Handle is an open live capture. Next must be called from one goroutine.
type Handle struct {
	name      string
	fd        int
	ring      []byte
	nBlocks   int
	blockSize int
	cur       int    // block being read or waited for
	inBlock   bool   // cur was handed to us and is being read
	left      uint32 // packets left in the block
	off       int    // offset of the next packet in the ring
	cooked    bool   // SOCK_DGRAM: the SLL header is built here
	linkType  uint32
	snaplen   uint32
	kernel    bool // a filter is attached in the kernel
	stop      *atomic.Bool
	buf       []byte // frames that need rewriting (VLAN tag, SLL header)
	nrec      uint64
	bytes     int64
	hw        bool
	stats     Stats
	closed    bool
	// drainLeft: ring blocks still to read after a stop request (-1: no
	// stop request yet).
	drainLeft int
}

// Open opens a capture on o.Interface: a packet socket bound to the
// interface, with its ring, kernel filter and (unless NoPromisc)
// promiscuous mode. Nothing is received before the filter is attached.
func Open(o Options) (*Handle, error) {
	h := &Handle{name: o.Interface, fd: -1, snaplen: uint32(o.Snaplen), drainLeft: -1}
	if o.Snaplen <= 0 || o.Snaplen > DefaultSnaplen {
		h.snaplen = DefaultSnaplen
	}
	ifindex := 0
	sockType := unix.SOCK_RAW
	h.linkType = linkEthernet
	if o.Interface == "any" {
		h.cooked, h.linkType, sockType = true, linkSLL, unix.SOCK_DGRAM
	} else {
		ifc, err := net.InterfaceByName(o.Interface)
		if err != nil {
			return nil, &NoInterfaceError{Interface: o.Interface}
		}
		ifindex = ifc.Index
		switch arphrd(o.Interface) {
		case arphrdEther, arphrdLoopback:
		case arphrdNone:
			h.linkType = linkRaw
		default:
			// Like libpcap: other link layers are captured "cooked".
			h.cooked, h.linkType, sockType = true, linkSLL, unix.SOCK_DGRAM
		}
	}
	var kernelProg *filter.Program
	if o.Filter != nil {
		var err error
		if kernelProg, err = o.Filter(h.linkType); err != nil {
			return nil, err
		}
	}
	// Protocol 0: the socket receives nothing until it is bound below,
	// after the filter is in place.
	fd, err := unix.Socket(unix.AF_PACKET, sockType|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) {
			return nil, &PermissionError{Interface: o.Interface}
		}
		return nil, fmt.Errorf("%s: cannot open a packet socket: %v", o.Interface, err)
	}
	h.fd = fd
	fail := func(what string, err error) (*Handle, error) {
		h.Close()
		return nil, fmt.Errorf("%s: %s: %v", o.Interface, what, err)
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_VERSION, unix.TPACKET_V3); err != nil {
		return fail("TPACKET_V3 not available", err)
	}
	// Hardware timestamps where the driver provides them (software ones
	// otherwise); failure only means none.
	_ = unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_TIMESTAMP, unix.SOF_TIMESTAMPING_RAW_HARDWARE)
	// Asks the network stack to timestamp packets itself (once per packet
	// where it can) rather than each packet socket as it copies them:
	// captures running alongside (tcpdump) then agree more often, in
	// times and in the order of near-simultaneous packets (measured on a
	// veth pair: sent packets get identical times, received ones still
	// differ by under a microsecond).
	_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1)
	if kernelProg != nil {
		ins := kernelProg.Instructions()
		sf := make([]unix.SockFilter, len(ins))
		for i, in := range ins {
			sf[i] = unix.SockFilter{Code: in.Code, Jt: in.Jt, Jf: in.Jf, K: in.K}
		}
		prog := unix.SockFprog{Len: uint16(len(sf)), Filter: &sf[0]}
		if err := unix.SetsockoptSockFprog(fd, unix.SOL_SOCKET, unix.SO_ATTACH_FILTER, &prog); err != nil {
			return fail("cannot attach the filter", err)
		}
		h.kernel = true
	}
	ringBytes := o.RingBytes
	if ringBytes <= 0 {
		ringBytes = DefaultRingBytes
	}
	// Blocks as small as the snap length allows, as libpcap sizes them:
	// the kernel hands over whole blocks, so with a small ring, more and
	// smaller blocks leave it room to fill one while another is read.
	h.blockSize = os.Getpagesize()
	for h.blockSize < int(h.snaplen)+blockHeadroom {
		h.blockSize <<= 1
	}
	h.nBlocks = max(ringBytes/h.blockSize, 2)
	req := unix.TpacketReq3{
		Block_size:     uint32(h.blockSize),
		Block_nr:       uint32(h.nBlocks),
		Frame_size:     frameSize,
		Frame_nr:       uint32(h.blockSize / frameSize * h.nBlocks),
		Retire_blk_tov: blockTimeout,
	}
	if err := unix.SetsockoptTpacketReq3(fd, unix.SOL_PACKET, unix.PACKET_RX_RING, &req); err != nil {
		return fail("cannot set up the capture ring", err)
	}
	h.ring, err = unix.Mmap(fd, 0, h.blockSize*h.nBlocks, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return fail("cannot map the capture ring", err)
	}
	sa := &unix.SockaddrLinklayer{Protocol: htons(ethPAll), Ifindex: ifindex}
	if err := unix.Bind(fd, sa); err != nil {
		if errors.Is(err, unix.ENODEV) {
			h.Close()
			return nil, &NoInterfaceError{Interface: o.Interface}
		}
		return fail("cannot bind to the interface", err)
	}
	if !o.NoPromisc && ifindex != 0 {
		mreq := unix.PacketMreq{Ifindex: int32(ifindex), Type: unix.PACKET_MR_PROMISC}
		if err := unix.SetsockoptPacketMreq(fd, unix.SOL_PACKET, unix.PACKET_ADD_MEMBERSHIP, &mreq); err != nil {
			return fail("cannot enable promiscuous mode", err)
		}
	}
	return h, nil
}

// arphrd is the interface's hardware type (ARPHRD_*), -1 if unknown.
func arphrd(name string) int {
	b, err := os.ReadFile("/sys/class/net/" + name + "/type")
	if err != nil {
		return -1
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return -1
	}
	return n
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// blockStatus is the status word of block i, shared with the kernel.
func (h *Handle) blockStatus(i int) *uint32 {
	return (*uint32)(unsafe.Pointer(&h.ring[i*h.blockSize+8]))
}

// Next delivers the next frame. rec.Data points into the ring or into a
// buffer of the handle and stays valid until the next call. ErrIdle
// reports a quiet period (rec holds the time); io.EOF the stop request
// (once the blocks the kernel handed over are read).
func (h *Handle) Next(rec *capture.Record) error {
	ne := binary.NativeEndian
	for {
		// After a stop request, what the kernel already handed over is
		// still delivered (the ring is drained, no more waiting).
		// At most one ring's worth: a busy link would fill it forever.
		stopping := h.stop != nil && h.stop.Load()
		if stopping && h.drainLeft < 0 {
			h.drainLeft = h.nBlocks
		}
		if h.inBlock && h.left > 0 {
			p := h.ring[h.off:]
			next := ne.Uint32(p[0:])
			h.left--
			if next != 0 {
				h.off += int(next)
			}
			if h.frame(p, rec) {
				return nil
			}
			continue
		}
		h.release()
		st := atomic.LoadUint32(h.blockStatus(h.cur))
		if st&tpStatusUser == 0 {
			if stopping {
				return io.EOF
			}
			if err := h.wait(); err != nil {
				return err
			}
			if atomic.LoadUint32(h.blockStatus(h.cur))&tpStatusUser == 0 {
				now := time.Now()
				rec.TsSec, rec.TsNsec = uint64(now.Unix()), uint32(now.Nanosecond())
				rec.Data, rec.CapLen, rec.WireLen = nil, 0, 0
				return ErrIdle
			}
			continue
		}
		if stopping {
			if h.drainLeft == 0 {
				return io.EOF
			}
			h.drainLeft--
		}
		base := h.cur * h.blockSize
		hdr := h.ring[base+8:]
		h.left = ne.Uint32(hdr[4:])
		h.off = base + int(ne.Uint32(hdr[8:]))
		h.inBlock = true
	}
}

// release hands the block being read back to the kernel.
func (h *Handle) release() {
	if !h.inBlock {
		return
	}
	atomic.StoreUint32(h.blockStatus(h.cur), 0)
	h.inBlock, h.left = false, 0
	h.cur = (h.cur + 1) % h.nBlocks
}

func (h *Handle) wait() error {
	fds := []unix.PollFd{{Fd: int32(h.fd), Events: unix.POLLIN | unix.POLLERR}}
	_, err := unix.Poll(fds, pollTimeout)
	if err != nil && !errors.Is(err, unix.EINTR) {
		return fmt.Errorf("%s: poll: %v", h.name, err)
	}
	if fds[0].Revents&(unix.POLLERR|unix.POLLNVAL) != 0 {
		// The interface went down or away (ENETDOWN), or the socket broke.
		if v, _ := unix.GetsockoptInt(h.fd, unix.SOL_SOCKET, unix.SO_ERROR); v != 0 {
			return fmt.Errorf("%s: capture ended: %v", h.name, unix.Errno(v))
		}
	}
	return nil
}

// frame turns the ring entry p into rec; false: skip it (a loopback
// frame seen a second time on its way out, as libpcap skips it).
func (h *Handle) frame(p []byte, rec *capture.Record) bool {
	ne := binary.NativeEndian
	sec, nsec := ne.Uint32(p[4:]), ne.Uint32(p[8:])
	snap, wire := ne.Uint32(p[12:]), ne.Uint32(p[16:])
	status := ne.Uint32(p[20:])
	mac, netOff := ne.Uint16(p[24:]), ne.Uint16(p[26:])
	vlanTCI, vlanTPID := ne.Uint32(p[32:]), ne.Uint16(p[36:])
	sll := p[hdrLen:]
	protocol := sll[2:4] // network order
	hatype := ne.Uint16(sll[8:])
	pkttype := sll[10]
	halen := sll[11]
	if pkttype == unix.PACKET_OUTGOING && hatype == arphrdLoopback {
		return false
	}
	if status&tpStatusHWTimestamp != 0 {
		h.hw = true
	}
	rec.TsSec, rec.TsNsec = uint64(sec), nsec
	rec.LinkType = h.linkType
	var data []byte
	if h.cooked {
		body := p[netOff : uint32(netOff)+snap]
		h.buf = append(h.buf[:0], 0, pkttype, byte(hatype>>8), byte(hatype), 0, min(halen, 8))
		h.buf = append(h.buf, sll[12:20]...)
		h.buf = append(h.buf, protocol...)
		data = append(h.buf, body...)
		h.buf = data
		wire += sllLen
	} else {
		data = p[mac : uint32(mac)+snap]
		if (vlanTCI != 0 || status&tpStatusVLANValid != 0) && len(data) >= 12 {
			// The kernel took the 802.1Q tag off (VLAN offload): put it
			// back where it was, as libpcap does.
			tpid := uint16(0x8100)
			if status&tpStatusVLANTPIDValid != 0 {
				tpid = vlanTPID
			}
			h.buf = append(h.buf[:0], data[:12]...)
			h.buf = append(h.buf, byte(tpid>>8), byte(tpid), byte(vlanTCI>>8), byte(vlanTCI))
			h.buf = append(h.buf, data[12:]...)
			data = h.buf
			wire += 4
		}
	}
	if uint32(len(data)) > h.snaplen {
		data = data[:h.snaplen]
	}
	rec.Data = data
	rec.CapLen, rec.WireLen = uint32(len(data)), wire
	h.nrec++
	h.bytes += int64(len(data))
	return true
}

// LinkType is the LINKTYPE_ of the frames delivered.
func (h *Handle) LinkType() uint32 { return h.linkType }

// Snaplen is the snap length.
func (h *Handle) Snaplen() uint32 { return h.snaplen }

// BytesRead counts the captured bytes delivered.
func (h *Handle) BytesRead() int64 { return h.bytes }

// Size is 0: a live capture has no known end.
func (h *Handle) Size() int64 { return 0 }

// LastRecord numbers the last frame delivered (no byte offset).
func (h *Handle) LastRecord() (uint64, int64) { return h.nrec, 0 }

// SetStop makes Next return io.EOF within a poll period once stop is set,
// after the frames already in ring blocks handed over by the kernel.
func (h *Handle) SetStop(stop *atomic.Bool) { h.stop = stop }

// KernelFilter reports whether a filter is attached in the kernel.
func (h *Handle) KernelFilter() bool { return h.kernel }

// HardwareTimestamps reports whether frames came with hardware timestamps.
func (h *Handle) HardwareTimestamps() bool { return h.hw }

// Stats returns the kernel's counters since Open (the kernel resets them
// at each read; they are accumulated here).
func (h *Handle) Stats() (Stats, error) {
	if h.closed {
		return h.stats, nil
	}
	st, err := unix.GetsockoptTpacketStatsV3(h.fd, unix.SOL_PACKET, unix.PACKET_STATISTICS)
	if err != nil {
		return h.stats, err
	}
	// For TPACKET_V3 the kernel's packet count already includes the drops.
	h.stats.Received += uint64(st.Packets)
	h.stats.Dropped += uint64(st.Drops)
	return h.stats, nil
}

// Close releases the ring and the socket (promiscuous mode ends with it).
func (h *Handle) Close() error {
	if h.closed {
		return nil
	}
	h.Stats()
	h.closed = true
	if h.ring != nil {
		unix.Munmap(h.ring)
		h.ring = nil
	}
	if h.fd >= 0 {
		return unix.Close(h.fd)
	}
	return nil
}
