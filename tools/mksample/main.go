// Command mksample writes testdata/sample.pcap, the small capture of the
// README's quick start: an HTTP-like TCP download with a lost segment, its
// retransmission and duplicate ACKs, a zero-window stall, a DNS exchange,
// a ping and an unanswered SYN scan of three ports.
package main

import (
	"flag"
	"fmt"
	"os"

	"flowsift/internal/pcapgen"
)

func main() {
	out := flag.String("o", "testdata/sample.pcap", "output file")
	flag.Parse()
	if err := write(*out); err != nil {
		fmt.Fprintln(os.Stderr, "mksample:", err)
		os.Exit(1)
	}
}

var (
	cliMAC = [6]byte{0x02, 0, 0, 0, 0, 0x01}
	srvMAC = [6]byte{0x02, 0, 0, 0, 0, 0x02}
	cli    = []byte{192, 168, 1, 10}
	srv    = []byte{192, 168, 1, 20}
)

func write(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	w, err := pcapgen.NewWriter(f, pcapgen.LinkEthernet, 65535)
	if err != nil {
		return err
	}
	sec, nsec := uint32(1700000000), uint32(0)
	var buf []byte
	emit := func(fr pcapgen.Frame, gapUs uint32) error {
		nsec += gapUs * 1000
		for nsec >= 1e9 {
			nsec -= 1e9
			sec++
		}
		buf = fr.Build(buf[:0])
		return w.WritePacket(sec, nsec, buf, 0)
	}
	c2s := func(seq, ack uint32, flags uint8, win uint16, payload []byte, id uint16) pcapgen.Frame {
		return pcapgen.Frame{SrcMAC: cliMAC, DstMAC: srvMAC, Src: cli, Dst: srv, Proto: 6, DF: true, IPID: id,
			SrcPort: 40000, DstPort: 80, Seq: seq, Ack: ack, Flags: flags, Window: win, Payload: payload}
	}
	s2c := func(seq, ack uint32, flags uint8, win uint16, payload []byte, id uint16) pcapgen.Frame {
		return pcapgen.Frame{SrcMAC: srvMAC, DstMAC: cliMAC, Src: srv, Dst: cli, Proto: 6, DF: true, IPID: id,
			SrcPort: 80, DstPort: 40000, Seq: seq, Ack: ack, Flags: flags, Window: win, Payload: payload}
	}
	synOpts := []byte{2, 4, 0x05, 0xb4, 4, 2, 1, 3, 3, 7}
	req := []byte("GET /file HTTP/1.1\r\nHost: 192.168.1.20\r\n\r\n")
	seg := make([]byte, 1000)
	for i := range seg {
		seg[i] = 'a' + byte(i%26)
	}
	cs, ss := uint32(1000), uint32(5000)
	steps := []struct {
		fr  pcapgen.Frame
		gap uint32
	}{}
	add := func(fr pcapgen.Frame, gap uint32) {
		steps = append(steps, struct {
			fr  pcapgen.Frame
			gap uint32
		}{fr, gap})
	}
	syn := c2s(cs, 0, pcapgen.SYN, 64240, nil, 1)
	syn.TCPOpts = synOpts
	add(syn, 0)
	synack := s2c(ss, cs+1, pcapgen.SYN|pcapgen.ACK, 65160, nil, 0)
	synack.TCPOpts = synOpts
	add(synack, 800)
	add(c2s(cs+1, ss+1, pcapgen.ACK, 502, nil, 2), 900)
	add(c2s(cs+1, ss+1, pcapgen.ACK|pcapgen.PSH, 502, req, 3), 100)
	add(s2c(ss+1, cs+1+uint32(len(req)), pcapgen.ACK, 509, nil, 1), 700)
	// Five data segments; the second is lost (not captured), so the client
	// sends duplicate ACKs and the server retransmits.
	var id uint16 = 2
	for i := 0; i < 5; i++ {
		id++
		if i == 1 {
			continue
		}
		add(s2c(ss+1+uint32(i*1000), cs+1+uint32(len(req)), pcapgen.ACK, 509, seg, id), 300)
		if i >= 2 {
			add(c2s(cs+1+uint32(len(req)), ss+1+1000, pcapgen.ACK, 502, nil, uint16(2+i)), 50)
		}
	}
	add(s2c(ss+1+1000, cs+1+uint32(len(req)), pcapgen.ACK, 509, seg, id+1), 4000)
	add(c2s(cs+1+uint32(len(req)), ss+1+5000, pcapgen.ACK, 0, nil, 8), 600) // zero window
	add(c2s(cs+1+uint32(len(req)), ss+1+5000, pcapgen.ACK, 502, nil, 9), 200000)
	add(s2c(ss+5001, cs+1+uint32(len(req)), pcapgen.FIN|pcapgen.ACK, 509, nil, id+2), 300)
	add(c2s(cs+1+uint32(len(req)), ss+5002, pcapgen.FIN|pcapgen.ACK, 502, nil, 10), 400)
	add(s2c(ss+5002, cs+2+uint32(len(req)), pcapgen.ACK, 509, nil, id+3), 500)
	// DNS query and answer.
	dnsQ := []byte{0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0, 0, 1, 0, 1}
	dnsA := append(append([]byte{}, dnsQ...), 0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0x0e, 0x10, 0, 4, 93, 184, 216, 34)
	dnsA[2], dnsA[7] = 0x81, 1
	add(pcapgen.Frame{SrcMAC: cliMAC, DstMAC: srvMAC, Src: cli, Dst: []byte{192, 168, 1, 1}, Proto: 17, SrcPort: 53000, DstPort: 53, IPID: 11, Payload: dnsQ}, 1000)
	add(pcapgen.Frame{SrcMAC: srvMAC, DstMAC: cliMAC, Src: []byte{192, 168, 1, 1}, Dst: cli, Proto: 17, SrcPort: 53, DstPort: 53000, IPID: 99, Payload: dnsA}, 2000)
	// Ping.
	add(pcapgen.Frame{SrcMAC: cliMAC, DstMAC: srvMAC, Src: cli, Dst: srv, Proto: 1, ICMPType: 8, SrcPort: 7, DstPort: 1, IPID: 12, Payload: seg[:56]}, 5000)
	add(pcapgen.Frame{SrcMAC: srvMAC, DstMAC: cliMAC, Src: srv, Dst: cli, Proto: 1, ICMPType: 0, SrcPort: 7, DstPort: 1, IPID: 100, Payload: seg[:56]}, 300)
	// SYN probes to three closed ports, answered by RST/ACK.
	for i, port := range []uint16{22, 443, 8080} {
		add(pcapgen.Frame{SrcMAC: cliMAC, DstMAC: srvMAC, Src: cli, Dst: srv, Proto: 6, SrcPort: 41000 + uint16(i), DstPort: port, Seq: 77, Flags: pcapgen.SYN, Window: 1024, IPID: 13 + uint16(i)}, 1000)
		add(pcapgen.Frame{SrcMAC: srvMAC, DstMAC: cliMAC, Src: srv, Dst: cli, Proto: 6, SrcPort: port, DstPort: 41000 + uint16(i), Seq: 0, Ack: 78, Flags: pcapgen.RST | pcapgen.ACK, IPID: 0}, 100)
	}
	for _, s := range steps {
		if err := emit(s.fr, s.gap); err != nil {
			return err
		}
	}
	return w.Flush()
}
