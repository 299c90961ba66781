package main

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestREADMEInstallLine runs the README's install command as written,
// with a fresh GOPATH whose bin folder is not on PATH (and no GOBIN): it
// must install flowsift and create the tawk and tcol links there.
func TestREADMEInstallLine(t *testing.T) {
	goBin := goForBuild(t)
	f, err := os.Open("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var line string
	for sc := bufio.NewScanner(f); sc.Scan(); {
		if l := strings.TrimSpace(sc.Text()); strings.HasPrefix(l, "go install ./cmd/flowsift") {
			line = l
		}
	}
	if line == "" {
		t.Fatal("README has no install line")
	}
	modCache, _ := exec.Command(goBin, "env", "GOMODCACHE").Output()
	gopath := t.TempDir()
	cmd := exec.Command("bash", "-c", line)
	cmd.Dir = "../.."
	cmd.Env = append(os.Environ(), "GOPATH="+gopath, "GOBIN=", "GOMODCACHE="+strings.TrimSpace(string(modCache)),
		"GOFLAGS=-buildvcs=false", "PATH="+filepath.Dir(goBin)+":/usr/bin:/bin")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", line, err, out)
	}
	for _, name := range []string{"tawk", "tcol"} {
		target, err := os.Readlink(filepath.Join(gopath, "bin", name))
		if err != nil || target != filepath.Join(gopath, "bin", "flowsift") {
			t.Errorf("%s link: %q, %v", name, target, err)
		}
	}
}

// goForBuild returns the go command for a test that builds flowsift, and
// skips the test with -short or without one.
func goForBuild(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the binary")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command")
	}
	return goBin
}
