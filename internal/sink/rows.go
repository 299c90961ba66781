package sink

import "flowsift/internal/column"

// Rows is where the engine writes the rows of one file kind (flows or
// packets): an Async feeding every format, or a Parquet file alone,
// written in place.
type Rows interface {
	column.Writer
	column.HexBytesWriter
	EndRow()
	// WriteString records header lines of the text file.
	WriteString(s string)
	// Flush makes the rows written so far reach the files (as far as the
	// format allows) and returns the first write error.
	Flush() error
	// Close completes the files and returns the first write error.
	Close() error
}

// NewRows returns the Rows writing to outs. With inPlace, a Parquet file
// alone is written by the calling goroutine, without a tape: adding a
// value to its column costs little more than recording it, its pages are
// compressed on a goroutine of their own, and the tape's decoding is
// saved.
func NewRows(inPlace bool, outs ...Output) Rows {
	if inPlace && len(outs) == 1 {
		if p, ok := outs[0].(*Parquet); ok {
			return p
		}
	}
	return NewAsyncOutputs(outs...)
}
