package diag

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestHTMLTitle(t *testing.T) {
	for page, want := range map[string]string{
		"<html><head><title>No client certificate provided</title></head></html>":              "No client certificate provided",
		"<HTML><HEAD><TITLE>\n No  client\tcertificate provided </TITLE>":                      "No client certificate provided",
		"<!DOCTYPE html><meta charset=utf-8><br><title>a &amp; b</title><body>no title</body>": "a & b",
	} {
		got, ok := htmlTitle(strings.NewReader(page))
		if !ok || got != want {
			t.Errorf("htmlTitle(%q) = %q, %v; want %q", page, got, ok, want)
		}
	}
	for _, page := range []string{"", "<html><body>No client certificate provided</body></html>", "<title>unterminated"} {
		if got, ok := htmlTitle(strings.NewReader(page)); ok {
			t.Errorf("htmlTitle(%q) = %q, want none", page, got)
		}
	}
}

// FuzzHTMLTitle: any bytes a server sends end in a title or none, never a
// panic or a hang, and the title is no longer than the page.
func FuzzHTMLTitle(f *testing.F) {
	f.Add("<html><head><title>No client certificate provided</title></head></html>")
	f.Fuzz(func(t *testing.T, page string) {
		title, ok := htmlTitle(strings.NewReader(page))
		if ok && len(title) > len(page) {
			t.Fatalf("title %q longer than the page", title)
		}
		_ = utf8.ValidString(title)
	})
}
