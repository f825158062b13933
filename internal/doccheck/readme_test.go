// Package doccheck holds tests of the documentation: every Go block of
// README.md and docs/*.md compiles, their relative links resolve, and the
// examples build in a user's module.
//
// The rule for those pages: a ```go block is a complete Go file (it starts
// with its package clause) and compiles as it stands; a block whose package
// name ends in _test is a test file. Text that is not a whole file goes in a
// ```text block.
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
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"
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

// docFiles returns README.md and every docs/*.md, relative to root.
func docFiles(t *testing.T, root string) []string {
	t.Helper()
	docs, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	files := []string{"README.md"}
	for _, d := range docs {
		rel, err := filepath.Rel(root, d)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, rel)
	}
	return files
}

// Every ```go block of README.md and docs/*.md compiles as it stands, in a
// user's module: each block is a directory of its own.
func TestDocGoBlocksCompile(t *testing.T) {
	root := repoRoot(t)
	dir := userModule(t, root)
	total := 0
	for _, file := range docFiles(t, root) {
		md, err := os.ReadFile(filepath.Join(root, file))
		if err != nil {
			t.Fatal(err)
		}
		blocks, err := goBlocks(md)
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if file == "README.md" && len(blocks) == 0 {
			t.Fatal("README.md has no Go block: its program for a real org is missing")
		}
		stem := strings.NewReplacer("/", "_", ".", "_", "-", "_").Replace(strings.TrimSuffix(file, ".md"))
		for i, b := range blocks {
			m := packageClause.FindStringSubmatch(b.code)
			if m == nil {
				t.Fatalf("%s:%d: a ```go block must be a whole Go file starting with its package clause (put other text in a ```text block)", file, b.line)
			}
			name := "main.go"
			if strings.HasSuffix(m[1], "_test") {
				name = "doc_test.go"
			}
			// A comment maps compiler errors back to the document's line.
			write(t, filepath.Join(dir, fmt.Sprintf("%s_%02d", stem, i+1), name), fmt.Sprintf("// %s:%d\n%s", file, b.line, b.code))
			total++
		}
	}
	if total < 8 {
		t.Fatalf("found %d Go blocks in README.md and docs/; the client, keystore, transport, retry, store, bulk, salesforcetest and diag programs are missing", total)
	}
	goCmd(t, dir, "vet", "./...") // type-checks every block, test files included
}

// mdLink is a Markdown link or image target: ](target).
var mdLink = regexp.MustCompile(`\]\(([^)\s]+)\)`)

// headingAnchors returns the anchors GitHub gives the headings of md:
// lower case, punctuation dropped, spaces as hyphens.
func headingAnchors(md []byte) []string {
	var out []string
	for _, line := range strings.Split(unfenced(md), "\n") {
		if !strings.HasPrefix(line, "#") {
			continue
		}
		text := strings.ToLower(strings.TrimSpace(strings.TrimLeft(line, "#")))
		var b strings.Builder
		for _, r := range text {
			switch {
			case r == ' ':
				b.WriteByte('-')
			case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r):
				b.WriteRune(r)
			}
		}
		out = append(out, b.String())
	}
	return out
}

// codeSpan is inline code, where ]( is Go or shell, not a link.
var codeSpan = regexp.MustCompile("`[^`\n]*`")

// prose returns md without its fenced blocks and inline code.
func prose(md []byte) []byte {
	return []byte(codeSpan.ReplaceAllString(unfenced(md), ""))
}

// unfenced returns md without its fenced blocks.
func unfenced(md []byte) string {
	var out strings.Builder
	fenced := false
	for _, line := range strings.SplitAfter(string(md), "\n") {
		if strings.HasPrefix(strings.TrimLeft(line, " \t"), "```") {
			fenced = !fenced
			continue
		}
		if !fenced {
			out.WriteString(line)
		}
	}
	return out.String()
}

// Every relative link of README.md and docs/*.md names a file or folder of
// the repository, so that moving a page cannot leave a link dangling.
func TestDocLinksResolve(t *testing.T) {
	root := repoRoot(t)
	for _, file := range docFiles(t, root) {
		md, err := os.ReadFile(filepath.Join(root, file))
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range mdLink.FindAllSubmatch(prose(md), -1) {
			target := string(m[1])
			if strings.Contains(target, "://") || strings.HasPrefix(target, "#") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			target, frag, _ := strings.Cut(target, "#")
			path := filepath.Join(root, filepath.Dir(file), filepath.FromSlash(target))
			if _, err := os.Stat(path); err != nil {
				t.Errorf("%s links to %s, which does not exist", file, m[1])
				continue
			}
			if frag == "" || !strings.HasSuffix(path, ".md") {
				continue
			}
			page, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Contains(headingAnchors(page), frag) {
				t.Errorf("%s links to %s, which has no heading #%s", file, m[1], frag)
			}
		}
	}
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

func TestProseDropsCode(t *testing.T) {
	md := "see [setup](docs/setup.md) and `f(x)[0](y)`\n```go\nx := a[0](b)\n```\n  ```sh\n  [c](d)\n  ```\nend [e](f.md)\n"
	var got []string
	for _, m := range mdLink.FindAllSubmatch(prose([]byte(md)), -1) {
		got = append(got, string(m[1]))
	}
	if strings.Join(got, " ") != "docs/setup.md f.md" {
		t.Fatalf("links = %q", got)
	}
}
