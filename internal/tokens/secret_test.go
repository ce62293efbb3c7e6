package tokens

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"
)

// TestTokenConstantTimeCompare: hashes are compared with subtle.ConstantTimeCompare and nowhere
// with == or != (which would stop at the first differing byte).
func TestTokenConstantTimeCompare(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	usesSubtle := false
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.SelectorExpr:
				if x, ok := n.X.(*ast.Ident); ok && x.Name == "subtle" && n.Sel.Name == "ConstantTimeCompare" {
					usesSubtle = true
				}
			case *ast.BinaryExpr:
				if n.Op == token.EQL || n.Op == token.NEQ {
					for _, side := range []ast.Expr{n.X, n.Y} {
						if mentionsHash(side) {
							t.Errorf("%s: a hash compared with %s", fset.Position(n.Pos()), n.Op)
						}
					}
				}
			}
			return true
		})
	}
	if !usesSubtle {
		t.Error("subtle.ConstantTimeCompare is not used")
	}
}

func mentionsHash(e ast.Expr) bool {
	found := false
	ast.Inspect(e, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.CallExpr: // the result of ConstantTimeCompare is fine to compare
			if sel, ok := n.Fun.(*ast.SelectorExpr); ok && sel.Sel.Name == "ConstantTimeCompare" {
				return false
			}
		case *ast.SelectorExpr:
			found = found || n.Sel.Name == "Hash"
		case *ast.Ident:
			found = found || strings.Contains(strings.ToLower(n.Name), "hash")
		}
		return true
	})
	return found
}
