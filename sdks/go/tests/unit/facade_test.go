package unit

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// usedOnlyAsCore are the runtime's exported names that package mandate does not forward,
// with the reason. Every other exported name of package core must exist in package mandate,
// so a name added to the runtime is either forwarded by the generator (the facade in
// generators/src/emitters/go/client.ts) or listed here on purpose.
var usedOnlyAsCore = map[string]string{
	// Generic types cannot be aliased before Go 1.24: users meet them as core.X.
	"Nullable": "generic",
	"Page":     "generic",
	"Iter":     "generic",
	"NewPage":  "generic; built by the generated list methods",
	"Stream":   "generic; the generated methods return aliases such as mandate.AuditEventStream",
	"Event":    "generic; what Stream.Event returns",
	// The machinery the generated code calls.
	"Client":          "the transport behind mandate.Client (mandate.Client.Core())",
	"NewClient":       "called by mandate.NewClient",
	"Defaults":        "the spec's defaults, passed by mandate.NewClient",
	"Config":          "what the Options build; read by the transport only",
	"Request":         "one operation's description, built by the generated methods",
	"AuthMode":        "part of Request",
	"AuthBearer":      "part of Request",
	"AuthClientBasic": "part of Request",
	"AuthNone":        "part of Request",
	"ObjectWriter":    "generated MarshalJSON methods",
	"ObjectReader":    "generated UnmarshalJSON methods",
	"ReadObject":      "generated UnmarshalJSON methods",
	"SetParam":        "generated query encoders",
	"SetExtraParams":  "generated query encoders",
	"PathParam":       "generated path builders",
	"OpenStream":      "called by the generated event-stream methods",
	"KindOf":          "the transport maps statuses to kinds",
	"RetryDelay":      "the transport's backoff",
}

// exportedNames lists the exported top-level names declared in a package's non-test files:
// functions (not methods), types, variables and constants.
func exportedNames(t *testing.T, dir string) map[string]bool {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	fset := token.NewFileSet()
	for _, file := range files {
		if strings.HasSuffix(file, "_test.go") {
			continue
		}
		parsed, err := parser.ParseFile(fset, file, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		for _, decl := range parsed.Decls {
			switch d := decl.(type) {
			case *ast.FuncDecl:
				if d.Recv == nil && d.Name.IsExported() {
					names[d.Name.Name] = true
				}
			case *ast.GenDecl:
				for _, spec := range d.Specs {
					switch s := spec.(type) {
					case *ast.TypeSpec:
						if s.Name.IsExported() {
							names[s.Name.Name] = true
						}
					case *ast.ValueSpec:
						for _, name := range s.Names {
							if name.IsExported() {
								names[name.Name] = true
							}
						}
					}
				}
			}
		}
	}
	return names
}

func TestFacadeForwardsEveryRuntimeName(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "core")); err != nil {
		t.Fatal(err)
	}
	core := exportedNames(t, filepath.Join(root, "core"))
	facade := exportedNames(t, filepath.Join(root, "mandate"))

	var missing, stale []string
	for name := range core {
		if !facade[name] && usedOnlyAsCore[name] == "" {
			missing = append(missing, name)
		}
	}
	for name := range usedOnlyAsCore {
		if !core[name] {
			stale = append(stale, name)
		}
	}
	sort.Strings(missing)
	sort.Strings(stale)
	if len(missing) > 0 {
		t.Errorf("package core exports names that package mandate does not forward (add them to the generator's facade, or to usedOnlyAsCore): %v", missing)
	}
	if len(stale) > 0 {
		t.Errorf("usedOnlyAsCore lists names package core no longer exports: %v", stale)
	}
	if len(core) < 40 || len(facade) < 40 {
		t.Fatalf("suspiciously few names: core %d, mandate %d", len(core), len(facade))
	}
}
