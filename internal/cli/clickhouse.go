package cli

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"flowsift/internal/clickhouse"
	"flowsift/internal/engine"
	"flowsift/internal/plugins"
)

// parseClickHouseOption handles --clickhouse, --clickhouse-table,
// --clickhouse-retry and --clickhouse-batch; it returns an error message
// or "".
func parseClickHouseOption(o *engine.ClickHouseOptions, name, v string) string {
	switch name {
	case "clickhouse":
		if _, err := clickhouse.NewClient(v); err != nil {
			return err.Error()
		}
		o.URL = v
	case "clickhouse-table":
		if v == "" || strings.ContainsAny(v, "`.\\ \t\n") {
			return fmt.Sprintf("--clickhouse-table %q: want a plain table name prefix", v)
		}
		o.TablePrefix = v
	case "clickhouse-retry":
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f <= 0 || f > 86400 {
			return fmt.Sprintf("--clickhouse-retry %s: want seconds, more than 0", v)
		}
		o.Retry = time.Duration(f * float64(time.Second))
	case "clickhouse-batch":
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1<<20 {
			return fmt.Sprintf("--clickhouse-batch %s: want rows per insert, 1 to 1048576", v)
		}
		o.BatchRows = n
	}
	return ""
}

// checkClickHouse: --clickhouse alone adds clickhouse to the default text
// output; --format clickhouse needs a URL.
func checkClickHouse(o *engine.Options) string {
	has := slices.Contains(o.Formats, "clickhouse")
	switch {
	case o.ClickHouse.URL != "" && o.Formats == nil:
		o.Formats = []string{"text", "clickhouse"}
	case o.ClickHouse.URL != "" && !has:
		return "--clickhouse given, but --format " + strings.Join(o.Formats, ",") + " has no clickhouse"
	case o.ClickHouse.URL == "" && has:
		return "--format clickhouse needs --clickhouse URL (e.g. http://127.0.0.1:8123/?database=default)"
	}
	return ""
}

const schemaUsage = `Usage: flowsift clickhouse-schema [--cluster NAME] [-s] [--plugins LIST]
                                  [--set PLUGIN.SWITCH=VALUE]... [--clickhouse-table PREFIX]
Print the CREATE TABLE statements of the tables that flowsift --clickhouse
writes with these plugins and switches: MergeTree tables flows (and packets
with -s); with --cluster NAME, tables flows_local (packets_local) to create on
every shard and Distributed tables flows (packets) over them. Run them with
clickhouse-client --multiquery (docs/clickhouse.md).
`

// clickhouseSchema is 'flowsift clickhouse-schema'.
func clickhouseSchema(args []string, stdout, stderr io.Writer) int {
	o := &engine.Options{Sets: map[string]string{}}
	cluster := ""
	for i := 0; i < len(args); i++ {
		a := args[i]
		name, val, hasVal := strings.Cut(a, "=")
		need := func() (string, bool) { return optValue(args, &i, val, hasVal) }
		switch name {
		case "-h", "--help":
			io.WriteString(stdout, schemaUsage)
			return 0
		case "-s":
			o.PacketMode = true
		case "--cluster", "--plugins", "--set", "--clickhouse-table":
			v, ok := need()
			if !ok || v == "" {
				return usageFail(stderr, "clickhouse-schema: %s needs a value", name)
			}
			switch name {
			case "--cluster":
				cluster = v
			case "--plugins":
				o.Plugins = strings.Split(v, ",")
			case "--set":
				k, val, ok := strings.Cut(v, "=")
				if !ok {
					return usageFail(stderr, "--set %s: want PLUGIN.SWITCH=VALUE", v)
				}
				o.Sets[k] = val
			case "--clickhouse-table":
				if msg := parseClickHouseOption(&o.ClickHouse, "clickhouse-table", v); msg != "" {
					return usageFail(stderr, "%s", msg)
				}
			}
		default:
			return usageFail(stderr, "clickhouse-schema: unknown argument %q", a)
		}
	}
	if err := plugins.Registry().Check(o.Plugins, o.Sets); err != nil {
		return usageFail(stderr, "%v", err)
	}
	flows, packets, err := engine.Columns(o, plugins.Registry())
	if err != nil {
		return failf(stderr, "clickhouse-schema: %v", err)
	}
	fmt.Fprintf(stdout, "-- %s", engine.SchemaCommand(o))
	if cluster != "" {
		fmt.Fprintf(stdout, " --cluster %s\n-- Run on every server of cluster %s (or add ON CLUSTER with ZooKeeper).", cluster, cluster)
	}
	fmt.Fprintln(stdout)
	kinds := []clickhouse.Kind{clickhouse.Flows}
	if o.PacketMode {
		kinds = append(kinds, clickhouse.Packets)
	}
	for i, k := range kinds {
		cols := flows
		if k == clickhouse.Packets {
			cols = packets
		}
		t, err := clickhouse.NewTable(k, clickhouse.TableName(o.ClickHouse.TablePrefix, k), cols)
		if err != nil {
			return failf(stderr, "clickhouse-schema: %v", err)
		}
		if i > 0 {
			fmt.Fprintln(stdout)
		}
		io.WriteString(stdout, t.DDL(cluster))
	}
	return 0
}

const sendUsage = `Usage: flowsift clickhouse-send FILE... --clickhouse URL [--clickhouse-table PREFIX]
                                [--clickhouse-retry SECONDS]
Send the rows of failed-batch files (PREFIX_flows.clickhouse-failed.jsonl,
PREFIX_packets.clickhouse-failed.jsonl) to the flows or packets table. A
file whose rows are all accepted is removed; when a batch is refused again,
the file keeps the rows not accepted and the exit status is 1.
`

// clickhouseSend is 'flowsift clickhouse-send'.
func clickhouseSend(args []string, stdout, stderr io.Writer) int {
	var o engine.ClickHouseOptions
	var files []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "-h" || a == "--help" {
			io.WriteString(stdout, sendUsage)
			return 0
		}
		if !strings.HasPrefix(a, "--") {
			files = append(files, a)
			continue
		}
		name, val, hasVal := strings.Cut(a[2:], "=")
		switch name {
		case "clickhouse", "clickhouse-table", "clickhouse-retry", "clickhouse-batch":
		default:
			return usageFail(stderr, "clickhouse-send: unknown option %s", a)
		}
		if !hasVal {
			if i+1 >= len(args) {
				return usageFail(stderr, "--%s needs a value", name)
			}
			i++
			val = args[i]
		}
		if msg := parseClickHouseOption(&o, name, val); msg != "" {
			return usageFail(stderr, "%s", msg)
		}
	}
	if o.URL == "" || len(files) == 0 {
		return usageFail(stderr, "clickhouse-send needs files and --clickhouse URL")
	}
	c, err := clickhouse.NewClient(o.URL)
	if err != nil {
		return usageFail(stderr, "%v", err)
	}
	if o.Retry > 0 {
		c.Retry = o.Retry
	}
	batch := o.BatchRows
	if batch == 0 {
		batch = clickhouse.DefaultBatchRows
	}
	status := 0
	for _, f := range files {
		table := clickhouse.TableName(o.TablePrefix, clickhouse.KindOfFailedFile(f))
		res, err := clickhouse.SendFile(context.Background(), c, table, f, batch)
		if err != nil {
			fmt.Fprintf(stderr, "flowsift: clickhouse-send %s: %v (%d of %d rows accepted; the file keeps the others)\n", f, err, res.Accepted, res.Rows)
			status = 1
			continue
		}
		fmt.Fprintf(stdout, "%s: %d rows sent to %s, %d accepted; file removed\n", f, res.Rows, table, res.Accepted)
	}
	return status
}
