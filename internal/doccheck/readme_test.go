// Package doccheck holds tests of the documentation: every Go block of the
// README compiles, and the examples build in a user's module.
//
// The README's rule: a ```go block is a complete Go file (it starts with its
// package clause) and compiles as it stands; a block whose package name ends in
// _test is a test file. Text that is not a whole file goes in a ```text block.
package doccheck

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// repoRoot is where the module's go.mod is, two levels up from this package.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("no go.mod at %s: %v", root, err)
	}
	return root
}

// block is one fenced Go block of a Markdown file.
type block struct {
	line int // of the opening fence
	code string
}

// goBlocks returns the ```go blocks of a Markdown text, fences indented or not.
func goBlocks(md []byte) ([]block, error) {
	var out []block
	var cur *block
	var body strings.Builder
	indent := ""
	sc := bufio.NewScanner(bytes.NewReader(md))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		trimmed := strings.TrimLeft(line, " \t")
		switch {
		case cur == nil && strings.HasPrefix(trimmed, "```"):
			if strings.TrimSpace(strings.TrimPrefix(trimmed, "```")) == "go" {
				cur, indent = &block{line: n}, line[:len(line)-len(trimmed)]
				body.Reset()
			} else {
				cur, indent = &block{line: -n}, line[:len(line)-len(trimmed)] // another language: skipped
			}
		case cur != nil && strings.TrimSpace(line) == "```":
			if cur.line > 0 {
				cur.code = body.String()
				out = append(out, *cur)
			}
			cur = nil
		case cur != nil:
			body.WriteString(strings.TrimPrefix(line, indent))
			body.WriteByte('\n')
		}
	}
	if cur != nil {
		return nil, fmt.Errorf("the block opened at line %d is not closed", abs(cur.line))
	}
	return out, sc.Err()
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

var packageClause = regexp.MustCompile(`(?m)^package ([A-Za-z_][A-Za-z0-9_]*)\s*$`)

// userModule makes a module outside this repository that requires it through a
// replace, as a user's module would, and returns its directory.
func userModule(t *testing.T, root string) string {
	t.Helper()
	dir := t.TempDir()
	gomod := fmt.Sprintf("module example.com/user\n\ngo 1.24\n\nrequire github.com/sfmtls/sfmtls v0.0.0\n\nreplace github.com/sfmtls/sfmtls => %s\n", root)
	write(t, filepath.Join(dir, "go.mod"), gomod)
	// The SDK's own checksums cover every module it needs.
	sum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(dir, "go.sum"), string(sum))
	return dir
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// goCmd runs the go command in dir, go.mod completed from the SDK's own
// requirements (-mod=mod). Those are the modules the SDK's tests already need,
// so with them in the module cache (CI runs go mod download) nothing is fetched;
// with an empty cache the go command fetches them as for any build.
func goCmd(t *testing.T, dir string, args ...string) {
	t.Helper()
	bin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is not on the PATH: %v", err)
	}
	// A deadline, so a stuck module fetch fails the test instead of hanging CI.
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off", "GOTOOLCHAIN=local")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go %s in %s: %v\n%s", strings.Join(args, " "), dir, err, out)
	}
}

// Every ```go block of the README compiles as it stands, in a user's module.
func TestReadmeGoBlocksCompile(t *testing.T) {
	root := repoRoot(t)
	md, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	blocks, err := goBlocks(md)
	if err != nil {
		t.Fatal(err)
	}
	if len(blocks) < 4 {
		t.Fatalf("found %d Go blocks in README.md; the main, keystore, transport, salesforcetest and diag snippets are missing", len(blocks))
	}
	dir := userModule(t, root)
	for i, b := range blocks {
		m := packageClause.FindStringSubmatch(b.code)
		if m == nil {
			t.Fatalf("README.md:%d: a ```go block must be a whole Go file starting with its package clause (put other text in a ```text block)", b.line)
		}
		name := "main.go"
		if strings.HasSuffix(m[1], "_test") {
			name = "readme_test.go"
		}
		// A comment maps compiler errors back to the README's line.
		write(t, filepath.Join(dir, fmt.Sprintf("block%02d", i+1), name), fmt.Sprintf("// README.md:%d\n%s", b.line, b.code))
	}
	goCmd(t, dir, "vet", "./...") // type-checks every block, test files included
}

// Each example compiles outside this module, from a copy, as a user would take
// it; the quickstart is also linked into a program.
func TestExamplesBuildInAUserModule(t *testing.T) {
	root := repoRoot(t)
	dir := userModule(t, root)
	examples, err := filepath.Glob(filepath.Join(root, "examples", "*", "main.go"))
	if err != nil || len(examples) == 0 {
		t.Fatalf("no examples found: %v", err)
	}
	for _, src := range examples {
		// An example with its own go.mod (examples/fleet needs redisstore's
		// module and go-redis, which the SDK's go.mod must not require) is a
		// user's module already; CI vets and tests it in its directory.
		if _, err := os.Stat(filepath.Join(filepath.Dir(src), "go.mod")); err == nil {
			continue
		}
		code, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(code, []byte(`"github.com/sfmtls/sfmtls/internal/`)) {
			t.Errorf("%s imports an internal package: a user cannot copy it", src)
		}
		write(t, filepath.Join(dir, filepath.Base(filepath.Dir(src)), "main.go"), string(code))
	}
	goCmd(t, dir, "vet", "./...")
	goCmd(t, dir, "build", "-o", filepath.Join(t.TempDir(), "quickstart"), "./quickstart")
}

func TestGoBlocks(t *testing.T) {
	md := "text\n```go\npackage a\n```\n\n  ```sh\n  go run .\n  ```\n- item:\n\n  ```go\n  package b\n\n  func f() {}\n  ```\n"
	blocks, err := goBlocks([]byte(md))
	if err != nil {
		t.Fatal(err)
	}
	if len(blocks) != 2 || blocks[0].code != "package a\n" || blocks[1].code != "package b\n\nfunc f() {}\n" || blocks[1].line != 11 {
		t.Fatalf("blocks = %+v", blocks)
	}
	if _, err := goBlocks([]byte("```go\npackage a\n")); err == nil {
		t.Fatal("an unclosed block is not reported")
	}
}
