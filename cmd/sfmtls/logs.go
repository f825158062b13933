package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
)

// The SDK warns on slog.Default() where it has no Logger of its own:
// client.ConfigFromEnv about a keystore, key or password file other users can
// read. The tool routes slog.Default() to the standard error of the command
// running, in its own "warning: …" form: installed once per process, its
// writer is the current run's.
var defaultLog = struct {
	once sync.Once
	mu   sync.Mutex
	w    io.Writer
}{w: os.Stderr}

// routeDefaultLog sends slog.Default() to w until the returned function is
// called.
func routeDefaultLog(w io.Writer) func() {
	defaultLog.once.Do(func() { slog.SetDefault(slog.New(lineHandler{})) })
	defaultLog.mu.Lock()
	prev := defaultLog.w
	defaultLog.w = w
	defaultLog.mu.Unlock()
	return func() {
		defaultLog.mu.Lock()
		defaultLog.w = prev
		defaultLog.mu.Unlock()
	}
}

// lineHandler prints a record as one line: "warning: MSG: k=v … (FIX)" at
// Warn and above, "MSG: k=v …" below; Debug is dropped. An attribute named
// fix is the remedy, shown last in parentheses as the tool shows an error's.
type lineHandler struct{ attrs []slog.Attr }

func (lineHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelInfo }

func (h lineHandler) Handle(_ context.Context, r slog.Record) error {
	var parts []string
	fix := ""
	add := func(a slog.Attr) bool {
		if a.Key == "fix" {
			fix = a.Value.String()
		} else if a.Key != "" {
			parts = append(parts, a.Key+"="+a.Value.String())
		}
		return true
	}
	for _, a := range h.attrs {
		add(a)
	}
	r.Attrs(add)
	line := r.Message
	if r.Level >= slog.LevelWarn {
		line = "warning: " + line
	}
	if len(parts) > 0 {
		line += ": " + strings.Join(parts, " ")
	}
	if fix != "" {
		line += " (" + fix + ")"
	}
	defaultLog.mu.Lock()
	defer defaultLog.mu.Unlock()
	_, err := fmt.Fprintln(defaultLog.w, oneLine(line))
	return err
}

func (h lineHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return lineHandler{attrs: append(append([]slog.Attr(nil), h.attrs...), as...)}
}

func (h lineHandler) WithGroup(string) slog.Handler { return h }
