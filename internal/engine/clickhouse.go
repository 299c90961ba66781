package engine

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"flowsift/internal/clickhouse"
	"flowsift/internal/column"
	"flowsift/internal/sink"
)

// ClickHouseOptions are the settings of --format clickhouse
// (docs/clickhouse.md).
type ClickHouseOptions struct {
	URL         string        // --clickhouse: the HTTP interface, settings as query parameters
	TablePrefix string        // --clickhouse-table: PREFIX_flows, PREFIX_packets
	Retry       time.Duration // --clickhouse-retry: how long a refused batch is retried (0: default)
	BatchRows   int           // --clickhouse-batch: rows per insert (0: default)
}

// clickhouseRun is the run's ClickHouse state.
type clickhouseRun struct {
	client  *clickhouse.Client
	tables  map[clickhouse.Kind]*clickhouse.Table
	outputs []*clickhouse.Output
}

// clickhouseError is a run's ClickHouse failure: the files are complete,
// the rows not accepted are in the failed-batch files.
type clickhouseError struct{ msg string }

func (e *clickhouseError) Error() string { return e.msg }

func (r *runner) clickhouseOn() bool { return slices.Contains(r.opts.Formats, "clickhouse") }

// clickhouseSetup connects and checks the tables before anything is sent
// or written: a table whose columns differ from the run's stops the run.
func (r *runner) clickhouseSetup() error {
	if !r.clickhouseOn() {
		return nil
	}
	o := r.opts
	c, err := clickhouse.NewClient(o.ClickHouse.URL)
	if err != nil {
		return err
	}
	if o.ClickHouse.Retry > 0 {
		c.Retry = o.ClickHouse.Retry
	}
	r.ch.client = c
	r.ch.tables = map[clickhouse.Kind]*clickhouse.Table{}
	kinds := map[clickhouse.Kind][]column.Column{clickhouse.Flows: r.flowColumns()}
	if o.PacketMode {
		kinds[clickhouse.Packets] = packetColumns(r.plugins)
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.Retry+30*time.Second)
	defer cancel()
	var ts []*clickhouse.Table
	for _, k := range []clickhouse.Kind{clickhouse.Flows, clickhouse.Packets} {
		cols, ok := kinds[k]
		if !ok {
			continue
		}
		t, err := clickhouse.NewTable(k, clickhouse.TableName(o.ClickHouse.TablePrefix, k), cols)
		if err != nil {
			return err
		}
		ts = append(ts, t)
		r.ch.tables[k] = t
	}
	return c.CheckTables(ctx, ts, SchemaCommand(o))
}

// SchemaCommand is the clickhouse-schema command line that creates the
// tables a run with opts writes to.
func SchemaCommand(o *Options) string {
	cmd := []string{"flowsift", "clickhouse-schema"}
	if o.PacketMode {
		cmd = append(cmd, "-s")
	}
	if len(o.Plugins) > 0 {
		cmd = append(cmd, "--plugins", strings.Join(o.Plugins, ","))
	}
	var sets []string
	for k, v := range o.Sets {
		sets = append(sets, k+"="+v)
	}
	sort.Strings(sets)
	for _, s := range sets {
		cmd = append(cmd, "--set", s)
	}
	if o.ClickHouse.TablePrefix != "" {
		cmd = append(cmd, "--clickhouse-table", o.ClickHouse.TablePrefix)
	}
	return strings.Join(cmd, " ")
}

// clickhouseOutput is the Output of kind ("flows", "packets").
func (r *runner) clickhouseOutput(kind string) (sink.Output, error) {
	t := r.ch.tables[clickhouse.Kind(kind)]
	if t == nil {
		return nil, fmt.Errorf("ClickHouse: no %s table checked", kind)
	}
	o := r.opts
	out, err := clickhouse.NewOutput(r.ch.client, t, clickhouse.OutputConfig{
		Sensor:     uint32(r.sensorID()),
		Capture:    r.captureName(),
		FailedPath: clickhouse.FailedPath(r.prefix, clickhouse.Kind(kind)),
		BatchRows:  o.ClickHouse.BatchRows,
	})
	if err != nil {
		return nil, err
	}
	r.ch.outputs = append(r.ch.outputs, out)
	return out, nil
}

// captureName is the captureFile column: the file name of the capture
// (-r), of the list of captures (-R, -D: the first one), or the interface.
func (r *runner) captureName() string {
	o := r.opts
	switch {
	case o.Interface != "":
		return o.Interface
	case o.ReadFile == "-":
		return "stdin"
	case o.ReadFile != "":
		return filepath.Base(o.ReadFile)
	case o.ListFile != "":
		return filepath.Base(o.ListFile)
	}
	return ""
}

// clickhouseReport adds the rows sent and accepted to the end report (the
// outputs are closed) and returns the failure, if any.
func (r *runner) clickhouseReport() error {
	var msgs []string
	table := ""
	if p := r.opts.ClickHouse.TablePrefix; p != "" {
		table = " --clickhouse-table " + shellQuote(p)
	}
	for _, out := range r.ch.outputs {
		st := out.Stats()
		line := fmt.Sprintf("ClickHouse %s: %d rows sent, %d accepted", st.Table, st.Sent, st.Accepted)
		if st.Kept > 0 {
			line += fmt.Sprintf(", %d kept in %s", st.Kept, st.FailedPath)
		}
		plural := "s"
		if st.Batches == 1 {
			plural = ""
		}
		line += fmt.Sprintf(" (%d insert%s, %.3f s)", st.Batches, plural, st.Inserts.Seconds())
		r.rep.Linef("%s", line)
		if st.KeyZeroed > 0 {
			r.rep.Warn(fmt.Sprintf("ClickHouse %s: %d rows with a time beyond the years 1677 to 2262 in the sorting key, written as 0", st.Table, st.KeyZeroed))
		}
		if err := out.Failure(); err != nil {
			msgs = append(msgs, fmt.Sprintf("%v\n  %d rows not accepted are kept in %s: send them with\n    flowsift clickhouse-send %s --clickhouse %s%s",
				err, st.Kept, st.FailedPath, shellQuote(st.FailedPath), shellQuote(r.ch.client.String()), table))
		}
	}
	if len(msgs) > 0 {
		return &clickhouseError{strings.Join(msgs, "\n")}
	}
	return nil
}

func shellQuote(s string) string {
	if !strings.ContainsAny(s, "&?;| '\"$`\\*") {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
