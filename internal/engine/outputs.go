package engine

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	"flowsift/internal/column"
	"flowsift/internal/plugin"
	"flowsift/internal/sink"
	"flowsift/internal/tcptrack"
)

// Formats are the writers --format can choose for the flow and packet files.
var Formats = []string{"text", "jsonl", "csv", "parquet", "clickhouse"}

// Compressions are the --compress methods of the text, JSON Lines and CSV files.
var Compressions = []string{"gzip", "zstd"}

// fileExt is the file name ending of a format (before any compression's).
func fileExt(format string) string {
	if format == "text" {
		return ".txt"
	}
	return "." + format
}

// outFile is one output file: the file, and the compressor in front of it.
type outFile struct {
	path string
	f    *os.File
	z    io.WriteCloser
}

// close completes the compressed stream and closes the file.
func (o *outFile) close() error {
	var err error
	if o.z != nil {
		err = o.z.Close()
		o.z = nil
	}
	if o.f != nil {
		if e := o.f.Close(); err == nil {
			err = e
		}
		o.f = nil
	}
	return err
}

// packetColumns are the packet file's columns: the core's, the plugins', l7Content.
func packetColumns(plugins []plugin.Instance) []column.Column {
	cols := []column.Column{
		{Name: "pktNo", Type: "U64", Desc: "Packet number"},
		{Name: "flowInd", Type: "U64", Desc: "Flow index"},
	}
	for _, pl := range plugins {
		cols = append(cols, pl.PacketColumns()...)
	}
	return append(cols, column.Column{Name: "l7Content", Type: "SC", Desc: "Layer 7 content", Text: column.TextContent})
}

// flowColumns are the flow file's columns: the core's, then the plugins'.
func flowColumns(plugins []plugin.Instance) []column.Column {
	cols := append([]column.Column(nil), coreFlowColumns...)
	for _, pl := range plugins {
		cols = append(cols, pl.FlowColumns()...)
	}
	return cols
}

// Columns returns the columns of the flow and packet files of a run with
// opts' plugins and switches (what the typed writers are driven by).
func Columns(opts *Options, reg *plugin.Registry) (flows, packets []column.Column, err error) {
	pls, err := reg.Build(&plugin.Env{PacketMode: true, TCP: tcptrack.New()}, opts.Plugins, opts.Sets)
	if err != nil {
		return nil, nil, err
	}
	return flowColumns(pls), packetColumns(pls), nil
}

// openOutputs creates the files of one kind ("flows", "packets") in every
// chosen format and returns the Async that feeds them. textHeader is the
// text file's header line; stdout, when not nil, takes the text output
// instead of a file ("-w -").
func (r *runner) openOutputs(kind string, cols []column.Column, textHeader string, stdout io.Writer) (sink.Rows, error) {
	o := r.opts
	formats := o.Formats
	if len(formats) == 0 {
		formats = []string{"text"}
	}
	var outs []sink.Output
	fail := func(err error) (sink.Rows, error) {
		for _, out := range outs {
			out.Close()
		}
		return nil, err
	}
	for _, format := range formats {
		if format == "clickhouse" {
			// Rows go to a table, not to a file (clickhouse.go).
			out, err := r.clickhouseOutput(kind)
			if err != nil {
				return fail(err)
			}
			outs = append(outs, out)
			continue
		}
		var w io.Writer
		if format == "text" && stdout != nil {
			w = stdout
		} else {
			path := r.prefix + "_" + kind + fileExt(format)
			if format != "parquet" {
				path += compressExt(o.Compress)
			}
			f, err := r.create(path, strings.TrimSuffix(kind, "s")+" file")
			if err != nil {
				return fail(err)
			}
			of := &outFile{path: path, f: f}
			r.files = append(r.files, of)
			w = f
			if format != "parquet" {
				if of.z, err = compressor(f, o.Compress); err != nil {
					return fail(err)
				}
				if of.z != nil {
					w = of.z
				}
			}
		}
		switch format {
		case "text":
			outs = append(outs, sink.NewTextOutput(w))
		case "csv":
			outs = append(outs, sink.NewCSVOutput(w, column.Names(cols)))
		case "jsonl":
			j, err := sink.NewJSONL(w, cols, o.JSONHex)
			if err != nil {
				return fail(err)
			}
			outs = append(outs, j)
		case "parquet":
			p, err := sink.NewParquet(w, cols, sink.ParquetMeta{Version: Version, CmdLine: o.CmdLine})
			if err != nil {
				return fail(err)
			}
			outs = append(outs, p)
		default:
			return fail(fmt.Errorf("unknown output format %q", format))
		}
	}
	// A packet file in Parquet alone is written in place (no tape) on
	// one processor, where the least total work wins (0.68x the text
	// run, against 0.98x through the tape); with two or more, through
	// the tape, which moves the column appends off the packet goroutine
	// (1.17x against 1.23x; docs/performance.md). Flow rows are written
	// by flow expiry, better off the packet goroutine.
	rows := sink.NewRows(kind == "packets" && runtime.GOMAXPROCS(0) == 1, outs...)
	rows.WriteString(textHeader)
	return rows, nil
}

func compressExt(method string) string {
	switch method {
	case "gzip":
		return ".gz"
	case "zstd":
		return ".zst"
	}
	return ""
}

// compressor returns the compressing writer of method on w (nil: none).
func compressor(w io.Writer, method string) (io.WriteCloser, error) {
	switch method {
	case "":
		return nil, nil
	case "gzip":
		return gzip.NewWriterLevel(w, gzip.DefaultCompression)
	case "zstd":
		return zstd.NewWriter(w, zstd.WithEncoderLevel(zstd.SpeedDefault), zstd.WithEncoderConcurrency(1))
	}
	return nil, fmt.Errorf("unknown compression %q", method)
}

// closeFiles completes and closes every output file (they stay listed,
// for markPartial).
func (r *runner) closeFiles() error {
	var first error
	for _, f := range r.files {
		if err := f.close(); err != nil && first == nil {
			first = &os.PathError{Op: "close", Path: f.path, Err: err}
		}
	}
	return first
}

// ColumnTypeTable is the Markdown table of docs/formats.md: each column's
// Tranalyzer type and its JSON Lines and Parquet types.
func ColumnTypeTable(cols []column.Column) string {
	var b strings.Builder
	b.WriteString("| Column | Type | JSON Lines | Parquet |\n|---|---|---|---|\n")
	for _, c := range cols {
		s, err := c.Shape()
		if err != nil {
			fmt.Fprintf(&b, "| %s | %s | ? | ? |\n", c.Name, c.Type)
			continue
		}
		fmt.Fprintf(&b, "| `%s` | `%s` | %s | %s |\n", c.Name, c.Type, sink.JSONType(s), sink.ParquetType(s))
	}
	return b.String()
}
