package clickhouse

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// FailedSuffix ends the name of a failed-batch file:
// PREFIX_flows.clickhouse-failed.jsonl, PREFIX_packets.clickhouse-failed.jsonl.
const FailedSuffix = ".clickhouse-failed.jsonl"

// FailedPath is the failed-batch file of an output prefix and kind.
func FailedPath(prefix string, k Kind) string { return prefix + "_" + string(k) + FailedSuffix }

// KindOfFailedFile tells from a failed-batch file's name which table its
// rows belong to.
func KindOfFailedFile(path string) Kind {
	if strings.HasSuffix(filepath.Base(path), "_packets"+FailedSuffix) {
		return Packets
	}
	return Flows
}

// SendResult is what SendFile did.
type SendResult struct {
	Rows, Accepted int
}

// SendFile sends the rows of a failed-batch file (JSON Lines) to table in
// batches of batchRows, each a Native block encoded by the table's column
// types (jsonBlock), as the run's inserts are. When a batch is finally
// refused, the file is rewritten with the rows not accepted (the batches
// before are in the table) and the error returned; when every row is
// accepted the file is removed.
func SendFile(ctx context.Context, c *Client, table, path string, batchRows int) (SendResult, error) {
	var res SendResult
	cols, err := c.Columns(ctx, table)
	if err != nil {
		if err == ErrNoTable {
			return res, fmt.Errorf("table %s does not exist in %s", table, c.String())
		}
		return res, err
	}
	types := make([]*Type, len(cols))
	for i, col := range cols {
		if types[i], err = ParseType(col.Type); err != nil {
			return res, fmt.Errorf("table %s: %v", table, err)
		}
	}
	query := "INSERT INTO " + quote(table) + " (" + (&Table{Cols: cols}).ColumnNames() + ") FORMAT Native"
	f, err := os.Open(path)
	if err != nil {
		return res, err
	}
	defer f.Close()
	rd := bufio.NewReaderSize(f, 1<<20)
	var comp compressor
	var native []byte
	block := newJSONBlock(cols, types)
	// Encode the whole file first: a bad line stops everything before a
	// single row is sent.
	type chunk struct {
		z          []byte // the Native block, compressed
		rows       int
		start, end int64 // byte range of its lines in the file
	}
	var chunks []chunk
	var off int64
	cur := chunk{}
	lineNo := 0
	for {
		line, err := rd.ReadBytes('\n')
		if len(line) > 0 {
			lineNo++
			n := int64(len(line))
			trimmed := bytes.TrimSpace(line)
			if len(trimmed) > 0 {
				if err := block.addRow(trimmed); err != nil {
					return res, fmt.Errorf("%s:%d: %v", path, lineNo, err)
				}
				cur.rows++
				res.Rows++
			}
			off += n
			cur.end = off
			if cur.rows >= batchRows {
				native = block.appendTo(native[:0])
				cur.z = comp.append(nil, native)
				chunks = append(chunks, cur)
				cur = chunk{start: off, end: off}
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return res, err
		}
	}
	if cur.rows > 0 {
		native = block.appendTo(native[:0])
		cur.z = comp.append(nil, native)
		chunks = append(chunks, cur)
	}
	for i, ch := range chunks {
		if _, err := c.InsertRetry(ctx, query, ch.z); err != nil {
			// Keep the lines from this batch on.
			if werr := rewriteFrom(f, path, chunks[i].start); werr != nil {
				return res, fmt.Errorf("%v; and %s could not be rewritten: %v", err, path, werr)
			}
			return res, err
		}
		res.Accepted += ch.rows
	}
	f.Close()
	return res, os.Remove(path)
}

// rewriteFrom replaces the file at path with its bytes from offset on.
func rewriteFrom(f *os.File, path string, from int64) error {
	if _, err := f.Seek(from, io.SeekStart); err != nil {
		return err
	}
	tmp := path + ".tmp"
	out, err := os.Create(tmp)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, f); err != nil {
		out.Close()
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
