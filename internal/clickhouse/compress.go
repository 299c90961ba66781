package clickhouse

import (
	"encoding/binary"
	"fmt"

	"github.com/go-faster/city"
	"github.com/pierrec/lz4/v4"
)

// ClickHouse's own compressed format, which the HTTP interface reads with
// decompress=1 (every version, 18.16 included): blocks of a 16-byte
// CityHash128 (v1.0.2, ClickHouse's) of the rest, a method byte (0x82:
// LZ4), the compressed size with the 9-byte header, the uncompressed
// size, and an LZ4 block. LZ4 costs a tenth of gzip's time on both ends
// (docs/clickhouse.md, throughput).

// nativeBlock is the uncompressed size of a block (ClickHouse's
// max_compress_block_size).
const nativeBlock = 1 << 20

const (
	methodLZ4      = 0x82
	nativeHeader   = 9
	nativeChecksum = 16
)

// compressor appends data in ClickHouse's compressed format.
type compressor struct{ lz lz4.Compressor }

func (c *compressor) append(dst, src []byte) []byte {
	for len(src) > 0 {
		n := min(len(src), nativeBlock)
		chunk := src[:n]
		src = src[n:]
		start := len(dst)
		bound := lz4.CompressBlockBound(n)
		need := start + nativeChecksum + nativeHeader + bound
		if cap(dst) < need {
			grown := make([]byte, start, need+need/4)
			copy(grown, dst)
			dst = grown
		}
		dst = dst[:need]
		body := dst[start+nativeChecksum+nativeHeader:]
		m, err := c.lz.CompressBlock(chunk, body)
		if err != nil || m == 0 {
			// Cannot happen with a bound-sized buffer.
			panic(fmt.Sprintf("lz4: %d bytes: %v", m, err))
		}
		dst = dst[:start+nativeChecksum+nativeHeader+m]
		hdr := dst[start+nativeChecksum:]
		hdr[0] = methodLZ4
		binary.LittleEndian.PutUint32(hdr[1:], uint32(nativeHeader+m))
		binary.LittleEndian.PutUint32(hdr[5:], uint32(n))
		h := city.CH128(hdr)
		binary.LittleEndian.PutUint64(dst[start:], h.Low)
		binary.LittleEndian.PutUint64(dst[start+8:], h.High)
	}
	return dst
}

// blockWriter assembles a compressed stream from pieces: bytes to
// compress, gathered into blocks of up to nativeBlock bytes, and
// streams partly compressed already (nativeBatch).
type blockWriter struct {
	comp  compressor
	stage []byte
	out   []byte
}

func (w *blockWriter) reset() { w.stage, w.out = w.stage[:0], w.out[:0] }

func (w *blockWriter) write(p []byte) {
	for len(p) > 0 {
		if w.stage == nil {
			w.stage = make([]byte, 0, nativeBlock)
		}
		n := min(len(p), nativeBlock-len(w.stage))
		w.stage = append(w.stage, p[:n]...)
		p = p[n:]
		if len(w.stage) == nativeBlock {
			w.flush()
		}
	}
}

// stream appends a stream: its compressed blocks after what is staged,
// then its bytes still to compress.
func (w *blockWriter) stream(s *stream) {
	if len(s.z) > 0 {
		w.flush()
		w.out = append(w.out, s.z...)
	}
	w.write(s.buf)
}

func (w *blockWriter) flush() {
	w.out = w.comp.append(w.out, w.stage)
	w.stage = w.stage[:0]
}

// finish compresses what is staged and returns the compressed stream
// (valid until the next reset).
func (w *blockWriter) finish() []byte {
	w.flush()
	return w.out
}

// decompressNative undoes append (tests, and a check of what is sent).
func decompressNative(b []byte) ([]byte, error) {
	var out []byte
	for len(b) > 0 {
		if len(b) < nativeChecksum+nativeHeader {
			return nil, fmt.Errorf("block truncated")
		}
		hdr := b[nativeChecksum:]
		csize := int(binary.LittleEndian.Uint32(hdr[1:]))
		usize := int(binary.LittleEndian.Uint32(hdr[5:]))
		if hdr[0] != methodLZ4 || csize < nativeHeader || csize > len(hdr) || usize > nativeBlock {
			return nil, fmt.Errorf("bad block header")
		}
		h := city.CH128(hdr[:csize])
		if binary.LittleEndian.Uint64(b) != h.Low || binary.LittleEndian.Uint64(b[8:]) != h.High {
			return nil, fmt.Errorf("checksum mismatch")
		}
		dst := make([]byte, usize)
		n, err := lz4.UncompressBlock(hdr[nativeHeader:csize], dst)
		if err != nil || n != usize {
			return nil, fmt.Errorf("lz4: %v", err)
		}
		out = append(out, dst...)
		b = hdr[csize:]
	}
	return out, nil
}
