package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const sample = "../../testdata/sample.pcap"

func runMain(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Main(append([]string{"flowsift"}, args...), strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

func TestExplainText(t *testing.T) {
	code, out, errs := runMain(t, "explain", "-r", sample)
	if code != 0 || errs != "" {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	for _, want := range []string{"Capture health", "Findings", "1 data segment lost before the capture point", "Connections refused in flows 4, 5 and 6", "Problem flows"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "\x1b[") {
		t.Error("colours when stdout is not a terminal")
	}
	_, out, _ = runMain(t, "explain", "--color", "-r", sample)
	if !strings.Contains(out, "\x1b[1;31mERROR\x1b[0m") {
		t.Errorf("--color gives no coloured severity:\n%s", out)
	}
}

func TestExplainJSONAndNoFiles(t *testing.T) {
	dir := t.TempDir()
	cp := filepath.Join(dir, "in.pcap")
	data, err := os.ReadFile(sample)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(cp, data, 0o644)
	code, out, _ := runMain(t, "explain", "--json", "-r", cp)
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	var doc struct {
		Capture  map[string]any   `json:"capture"`
		Health   map[string]any   `json:"health"`
		Findings []map[string]any `json:"findings"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Findings) != 3 || doc.Findings[0]["code"] != "loss_upstream" {
		t.Errorf("findings %v", doc.Findings)
	}
	// Nothing written next to the input without -w.
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("explain wrote files: %v", ents)
	}
	// With -w the flow files are written too.
	code, _, _ = runMain(t, "explain", "-r", cp, "-w", filepath.Join(dir, "out")+"/")
	if code != 0 {
		t.Fatalf("-w: exit %d", code)
	}
	if _, err := os.Stat(filepath.Join(dir, "out", "in_flows.txt")); err != nil {
		t.Errorf("-w wrote no flow file: %v", err)
	}
}

func TestExplainStdinAndFlow(t *testing.T) {
	data, err := os.ReadFile(sample)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.CreateTemp(t.TempDir(), "stdin")
	if err != nil {
		t.Fatal(err)
	}
	f.Write(data)
	f.Seek(0, 0)
	old := os.Stdin
	os.Stdin = f
	code, out, _ := runMain(t, "explain", "--flow", "1", "-r", "-")
	os.Stdin = old
	if code != 0 || !strings.Contains(out, "Handshake") || !strings.Contains(out, "Zero window") {
		t.Errorf("exit %d:\n%s", code, out)
	}
	if code, _, _ := runMain(t, "explain", "--flow", "77", "-r", sample); code != 1 {
		t.Errorf("unknown flow: exit %d, want 1", code)
	}
}

func TestExplainBadUsage(t *testing.T) {
	for _, args := range [][]string{{"explain"}, {"explain", "--flow", "x", "-r", sample}, {"explain", "--flow"}, {"explain", "-s", "-r", sample}} {
		if code, _, _ := runMain(t, args...); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
	if code, out, _ := runMain(t, "explain", "--help"); code != 0 || !strings.Contains(out, "Examples:") {
		t.Errorf("--help: exit %d", code)
	}
	if code, _, errs := runMain(t, "explain", "-r", "/nonexistent.pcap"); code != 1 || errs == "" {
		t.Errorf("missing input: exit %d, stderr %q", code, errs)
	}
}
