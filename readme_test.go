package billing_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestREADMENamesRealTests: every test the README names as the proof of a
// sentence exists, so a renamed or deleted test can't leave a claim unproved.
func TestREADMENamesRealTests(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("README.md")
	require.NoError(t, err)
	defined := map[string]bool{}
	fn := regexp.MustCompile(`(?m)^func ((?:Test|Benchmark)\w+)\(`)
	err = filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, "_test.go") {
			return err
		}
		src, err := os.ReadFile(path)
		for _, m := range fn.FindAllStringSubmatch(string(src), -1) {
			defined[m[1]] = true
		}
		return err
	})
	require.NoError(t, err)
	named := regexp.MustCompile("`((?:Test|Benchmark)[A-Z]\\w*)")
	var missing []string
	for _, m := range named.FindAllStringSubmatch(string(readme), -1) {
		if !defined[m[1]] {
			missing = append(missing, m[1])
		}
	}
	require.Empty(t, missing, "the README names tests that don't exist")
	require.Greater(t, len(defined), 100)
}
