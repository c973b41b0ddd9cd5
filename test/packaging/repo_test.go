package packaging

import (
	"os"
	"path/filepath"
)

// repoRoot is the checkout the tests run in: the directory of go.mod above the test's working directory.
func repoRoot(t interface {
	Helper()
	Fatal(args ...any)
}) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the working directory")
		}
		dir = parent
	}
}
