package billing_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tempobill/billing"
)

// TestCodesListsEveryCode: Codes is kept by hand; every E... constant of
// the package must be in it, or the API would have no status for it and the
// workflow client would not know it.
func TestCodesListsEveryCode(t *testing.T) {
	t.Parallel()
	pkgs, err := parser.ParseDir(token.NewFileSet(), ".", func(fi fs.FileInfo) bool {
		return !strings.HasSuffix(fi.Name(), "_test.go")
	}, 0)
	require.NoError(t, err)
	var found []string
	for _, f := range pkgs["billing"].Files {
		for _, d := range f.Decls {
			g, ok := d.(*ast.GenDecl)
			if !ok || g.Tok != token.CONST {
				continue
			}
			for _, spec := range g.Specs {
				v := spec.(*ast.ValueSpec)
				for i, name := range v.Names {
					if len(name.Name) < 2 || name.Name[0] != 'E' || strings.ToUpper(name.Name) != name.Name || i >= len(v.Values) {
						continue
					}
					lit, ok := v.Values[i].(*ast.BasicLit)
					if !ok || lit.Kind != token.STRING {
						continue
					}
					code, err := strconv.Unquote(lit.Value)
					require.NoError(t, err)
					found = append(found, code)
				}
			}
		}
	}
	require.NotEmpty(t, found)
	require.ElementsMatch(t, found, billing.Codes())
}
