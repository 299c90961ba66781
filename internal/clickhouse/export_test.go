package clickhouse

// UnescapeTSV lets the external tests read ClickHouse's TSV answers with
// the decoder the client itself uses.
var UnescapeTSV = unescapeTSV
