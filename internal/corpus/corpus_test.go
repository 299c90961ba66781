package corpus

import (
	"os"
	"path/filepath"
	"testing"
)

// TestSharedDirIsRelative: the shared folder is found beside the
// repository (or through FLOWSIFT_SHARED), never at a fixed path: a
// checkout without ../shared finds nothing, even on a machine that has
// /work/shared.
func TestSharedDirIsRelative(t *testing.T) {
	top := t.TempDir()
	repo := filepath.Join(top, "repo")
	os.MkdirAll(filepath.Join(repo, "internal", "x"), 0o755)
	os.WriteFile(filepath.Join(repo, "go.mod"), []byte("module flowsift\n"), 0o644)
	t.Setenv("FLOWSIFT_SHARED", "")
	t.Chdir(filepath.Join(repo, "internal", "x"))
	if d := SharedDir(); d != "" {
		t.Errorf("no ../shared: SharedDir() = %q, want \"\"", d)
	}
	os.MkdirAll(filepath.Join(top, "shared", "corpus"), 0o755)
	if d := SharedDir(); d != filepath.Join(repo, "..", "shared") {
		t.Errorf("with ../shared: SharedDir() = %q", d)
	}
	t.Setenv("FLOWSIFT_SHARED", "/elsewhere")
	if d := SharedDir(); d != "/elsewhere" {
		t.Errorf("FLOWSIFT_SHARED: SharedDir() = %q", d)
	}
}
