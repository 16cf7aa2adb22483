package history_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestNoCodeChangesTheHistory: the history is append-only (SPEC §3.1), so
// no SQL in envoi's code may update or delete its entries. Tests are
// exempt: they tamper on purpose to prove Verify notices.
func TestNoCodeChangesTheHistory(t *testing.T) {
	forbidden := regexp.MustCompile(`(?i)(UPDATE\s+history\s|DELETE\s+FROM\s+history\s|TRUNCATE\s+history\b|DROP\s+TABLE\s+history\b)`)
	root := filepath.Join("..", "..")
	var checked int
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "node_modules") {
			return filepath.SkipDir
		}
		isGo := strings.HasSuffix(path, ".go") && !strings.HasSuffix(path, "_test.go")
		if !isGo {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		checked++
		if m := forbidden.Find(src); m != nil {
			t.Errorf("%s changes history entries (%q): the history is append-only", path, m)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 50 {
		t.Fatalf("only %d Go files checked: wrong root?", checked)
	}
}
