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

// newLogger is the Logger of a command's client: the SDK's warnings, such as
// the token cache's when the Redis store fails, printed on w as the tool's
// other warnings are ("warning: …"), records below min dropped.
func newLogger(w io.Writer, min slog.Level) *slog.Logger {
	return slog.New(lineHandler{out: &lockedWriter{w: w}, min: min})
}

// lockedWriter serialises the lines of one logger's goroutines.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

// lineHandler prints a record as one line: "warning: MSG: ERROR k=v …
// (FIX)" at Warn and above, "MSG: …" below. The SDK's "sfmtls: " before a
// message is dropped (the tool is sfmtls); an attribute named error is shown
// as its text, as the tool shows an error's cause; one named fix is the
// remedy, shown last in parentheses as the tool shows an error's. Attributes
// whose name says they hold a secret are never printed.
type lineHandler struct {
	attrs []slog.Attr
	out   *lockedWriter // nil: the current run's standard error (slog.Default)
	min   slog.Level    // the zero value, Info, for slog.Default; Debug is dropped
}

func (h lineHandler) Enabled(_ context.Context, l slog.Level) bool {
	return l >= max(h.min, slog.LevelInfo)
}

// secretKey reports whether an attribute's name says it holds a secret.
func secretKey(key string) bool {
	k := strings.ToLower(key)
	for _, s := range []string{"token", "password", "secret", "authorization", "cookie", "assertion", "private"} {
		if strings.Contains(k, s) {
			return true
		}
	}
	return false
}

func (h lineHandler) Handle(_ context.Context, r slog.Record) error {
	var parts []string
	fix, cause := "", ""
	add := func(a slog.Attr) bool {
		v := a.Value.Resolve()
		switch {
		case a.Key == "" || secretKey(a.Key):
		case a.Key == "fix":
			fix = v.String()
		case a.Key == "error" && cause == "":
			cause = v.String()
		default:
			parts = append(parts, a.Key+"="+v.String())
		}
		return true
	}
	for _, a := range h.attrs {
		add(a)
	}
	r.Attrs(add)
	line := strings.TrimPrefix(r.Message, "sfmtls: ")
	if r.Level >= slog.LevelWarn {
		line = "warning: " + line
	}
	if cause != "" {
		parts = append([]string{cause}, parts...)
	}
	if len(parts) > 0 {
		line += ": " + strings.Join(parts, " ")
	}
	if fix != "" {
		line += " (" + fix + ")"
	}
	if h.out != nil {
		h.out.mu.Lock()
		defer h.out.mu.Unlock()
		_, err := fmt.Fprintln(h.out.w, oneLine(line))
		return err
	}
	defaultLog.mu.Lock()
	defer defaultLog.mu.Unlock()
	_, err := fmt.Fprintln(defaultLog.w, oneLine(line))
	return err
}

func (h lineHandler) WithAttrs(as []slog.Attr) slog.Handler {
	h.attrs = append(append([]slog.Attr(nil), h.attrs...), as...)
	return h
}

func (h lineHandler) WithGroup(string) slog.Handler { return h }
