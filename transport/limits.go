package transport

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"time"
)

// Salesforce reports API usage on every REST answer in Sforce-Limit-Info
// (REST API Developer Guide, Limit Info Header):
//
//	Sforce-Limit-Info: api-usage=25/5000; per-app-api-usage=17/250(appName=sample-connected-app)
//
// api-usage is the org's calls in the last 24 hours against its allocation;
// per-app-api-usage, present only for a connected app with a quota, the app's.

// Usage is calls used against an allocation, as Sforce-Limit-Info reports it.
type Usage struct {
	Used, Max int64
}

// Fraction returns Used/Max, or 0 when Max is unknown.
func (u Usage) Fraction() float64 {
	if u.Max <= 0 {
		return 0
	}
	return float64(u.Used) / float64(u.Max)
}

// usageThresholds are logged once each as usage climbs past them; the last
// two at Warn.
var usageThresholds = [...]float64{0.5, 0.75, 0.9, 0.95}

// capProbeInterval: while the cap refuses calls, one call this often is let
// through to read the usage again (usage is a rolling 24-hour count, so it
// falls again), so a capped Transport recovers on its own.
const capProbeInterval = 30 * time.Second

// limits holds the latest Sforce-Limit-Info and enforces Config.UsageCap.
type limits struct {
	api, app usageCell
	appName  atomic.Pointer[string]
	band     atomic.Int32 // thresholds passed when last seen, for logging
	capAt    float64      // Config.UsageCap; 0: no cap
	probe    atomic.Int64 // unix nanoseconds of the next call let through while capped
	refused  atomic.Int64
	log      *slog.Logger
}

type usageCell struct{ used, max atomic.Int64 }

func (c *usageCell) load() Usage { return Usage{Used: c.used.Load(), Max: c.max.Load()} }

// store records u and reports whether it changed. Unchanged values are not
// written: under load every caller writing the same cache line costs more than
// the comparison.
func (c *usageCell) store(u Usage) bool {
	changed := false
	if c.used.Load() != u.Used {
		c.used.Store(u.Used)
		changed = true
	}
	if c.max.Load() != u.Max {
		c.max.Store(u.Max)
		changed = true
	}
	return changed
}

// observe reads Sforce-Limit-Info from an answer. It allocates nothing.
func (l *limits) observe(ctx context.Context, h http.Header) {
	v := h["Sforce-Limit-Info"]
	if len(v) == 0 {
		return
	}
	api, app, name, ok := parseLimitInfo(v[0])
	if !ok {
		return
	}
	if api.Max > 0 && l.api.store(api) {
		l.logThreshold(ctx, api)
	}
	if app.Max > 0 {
		l.app.store(app)
		if p := l.appName.Load(); p == nil || *p != name {
			n := strings.Clone(name) // allocated only when the name changes; keeps no header alive
			l.appName.Store(&n)
		}
	}
}

func (l *limits) logThreshold(ctx context.Context, u Usage) {
	band, f := int32(0), u.Fraction()
	for _, th := range usageThresholds {
		if f >= th {
			band++
		}
	}
	old := l.band.Load()
	if band == old || !l.band.CompareAndSwap(old, band) || band < old {
		return // unchanged, another caller logs it, or usage fell
	}
	level := slog.LevelInfo
	if band >= int32(len(usageThresholds))-1 {
		level = slog.LevelWarn
	}
	l.log.LogAttrs(ctx, level, "sfmtls: org API usage passed a threshold",
		slog.Float64("threshold", usageThresholds[band-1]), slog.Int64("used", u.Used), slog.Int64("max", u.Max))
}

// parseLimitInfo parses "api-usage=25/5000; per-app-api-usage=17/250(appName=x)"
// without allocating: it runs on every answer, so it is written for speed
// (entries found with IndexByte, keys matched as prefixes, digits read with one
// comparison each). Unknown entries and entries without a value are skipped; a
// malformed known entry makes ok false.
func parseLimitInfo(v string) (api, app Usage, appName string, ok bool) {
	const apiKey, appKey = "api-usage=", "per-app-api-usage="
	ok = true
	for v != "" {
		entry := v
		if i := strings.IndexByte(v, ';'); i >= 0 {
			entry, v = v[:i], v[i+1:]
		} else {
			v = ""
		}
		for entry != "" && (entry[0] == ' ' || entry[0] == '\t') {
			entry = entry[1:]
		}
		// A key ends at the entry's first '=', and neither key holds one, so a
		// prefix match is a key match. (Written out rather than strings.HasPrefix:
		// against a constant the compiler compares words inline, no memequal call.)
		switch {
		case len(entry) >= len(apiKey) && entry[:len(apiKey)] == apiKey:
			u, rest, good := parseUsage(trimRightSpace(entry[len(apiKey):]))
			ok = ok && good && rest == ""
			if good {
				api = u
			}
		case len(entry) >= len(appKey) && entry[:len(appKey)] == appKey:
			u, rest, good := parseUsage(trimRightSpace(entry[len(appKey):]))
			if len(rest) > len("(appName=)") && rest[:len("(appName=")] == "(appName=" && rest[len(rest)-1] == ')' {
				appName = rest[len("(appName=") : len(rest)-1]
			}
			ok = ok && good
			if good {
				app = u
			}
		}
	}
	return api, app, appName, ok
}

func trimRightSpace(s string) string {
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}

// parseUsage parses "used/max" and returns what follows.
func parseUsage(s string) (Usage, string, bool) {
	used, s, ok1 := parseCount(s)
	if !ok1 || s == "" || s[0] != '/' {
		return Usage{}, s, false
	}
	limit, rest, ok2 := parseCount(s[1:])
	return Usage{Used: used, Max: limit}, rest, ok2
}

// parseCount parses leading decimal digits, refusing none and overflow.
func parseCount(s string) (int64, string, bool) {
	var n int64
	i := 0
	for ; i < len(s); i++ {
		d := s[i] - '0' // wraps below '0', so one comparison tests both bounds
		if d > 9 {
			break
		}
		// Only past maxSafeDigits digits can the number overflow.
		if i >= maxSafeDigits && n > (1<<63-1-9)/10 {
			return 0, s, false
		}
		n = n*10 + int64(d)
	}
	return n, s[i:], i > 0
}

// maxSafeDigits: any number of this many digits fits an int64.
const maxSafeDigits = 18

// admit applies the usage cap to a new call.
func (l *limits) admit() error {
	if l.capAt <= 0 {
		return nil
	}
	scope, u := "org", l.api.load()
	if app := l.app.load(); app.Fraction() > u.Fraction() {
		scope, u = "app", app
	}
	if u.Fraction() < l.capAt {
		return nil
	}
	now := time.Now() // only past the cap: reading the clock costs more than the rest
	// The first refusal starts the probe clock; each time it runs out, one call
	// goes out and reads the usage again.
	next := l.probe.Load()
	if next == 0 {
		l.probe.CompareAndSwap(0, now.Add(capProbeInterval).UnixNano())
	} else if now.UnixNano() >= next && l.probe.CompareAndSwap(next, now.Add(capProbeInterval).UnixNano()) {
		return nil // this call reads the usage again
	}
	l.refused.Add(1)
	return &UsageCapError{Scope: scope, Usage: u, Cap: l.capAt}
}
