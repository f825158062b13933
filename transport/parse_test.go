package transport

import (
	"net/http"
	"strings"
	"testing"
)

// TestParseLimitInfo: the Limit Info Header's documented forms (REST API
// Developer Guide) and malformed ones.
func TestParseLimitInfo(t *testing.T) {
	cases := []struct {
		in       string
		api, app Usage
		name     string
		ok       bool
	}{
		{"api-usage=18/5000", Usage{18, 5000}, Usage{}, "", true},
		{"api-usage=25/5000; per-app-api-usage=17/250(appName=sample-connected-app)", Usage{25, 5000}, Usage{17, 250}, "sample-connected-app", true},
		{"api-usage=110018/100000; api-bursts=1/750", Usage{110018, 100000}, Usage{}, "", true},
		{"per-app-api-usage=3/10(appName=a)", Usage{}, Usage{3, 10}, "a", true},
		{"api-usage=18", Usage{}, Usage{}, "", false},
		{"api-usage=/5000", Usage{}, Usage{}, "", false},
		{"api-usage=18/5000x", Usage{18, 5000}, Usage{}, "", false},
		{"api-usage=99999999999999999999/1", Usage{}, Usage{}, "", false},
		// The overflow check's edges: 18 digits always fit; the 19-digit
		// limit is the check's own (a little under the int64 maximum).
		{"api-usage=999999999999999999/1", Usage{999999999999999999, 1}, Usage{}, "", true},
		{"api-usage=9223372036854775799/1", Usage{9223372036854775799, 1}, Usage{}, "", true},
		{"api-usage=9223372036854775800/1", Usage{}, Usage{}, "", false},
		{"", Usage{}, Usage{}, "", true},
	}
	for _, c := range cases {
		api, app, name, ok := parseLimitInfo(c.in)
		if api != c.api || app != c.app || name != c.name || ok != c.ok {
			t.Errorf("parseLimitInfo(%q) = %v %v %q %v; want %v %v %q %v", c.in, api, app, name, ok, c.api, c.app, c.name, c.ok)
		}
	}
}

// FuzzParseLimitInfo: no negative usage, and the same reading as
// limitInfoByBytes, the plain byte-by-byte parser the fast one replaced.
func FuzzParseLimitInfo(f *testing.F) {
	f.Fuzz(func(t *testing.T, s string) {
		api, app, name, ok := parseLimitInfo(s)
		if api.Used < 0 || api.Max < 0 || app.Used < 0 || app.Max < 0 {
			t.Fatalf("negative usage from %q: %v %v", s, api, app)
		}
		wapi, wapp, wname, wok := limitInfoByBytes(s)
		if api != wapi || app != wapp || name != wname || ok != wok {
			t.Fatalf("parseLimitInfo(%q) = %v %v %q %v; the plain parser reads %v %v %q %v", s, api, app, name, ok, wapi, wapp, wname, wok)
		}
	})
}

// limitInfoByBytes is the first parseLimitInfo, kept as the reference the
// faster one must agree with: one pass over the bytes, the key compared whole.
func limitInfoByBytes(v string) (api, app Usage, appName string, ok bool) {
	ok = true
	for i := 0; i < len(v); {
		for i < len(v) && (v[i] == ' ' || v[i] == '\t' || v[i] == ';') {
			i++
		}
		start := i
		for i < len(v) && v[i] != '=' && v[i] != ';' {
			i++
		}
		if i == len(v) || v[i] != '=' {
			continue // an entry without a value
		}
		key := v[start:i]
		end := i + 1
		for end < len(v) && v[end] != ';' {
			end++
		}
		val := trimRightSpace(v[i+1 : end])
		i = end
		switch key {
		case "api-usage":
			u, rest, good := parseUsage(val)
			ok = ok && good && rest == ""
			if good {
				api = u
			}
		case "per-app-api-usage":
			u, rest, good := parseUsage(val)
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

// BenchmarkParseLimitInfo: the header as Salesforce sends it on every answer.
func BenchmarkParseLimitInfo(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, _, _, ok := parseLimitInfo("api-usage=18/5000; per-app-api-usage=17/250(appName=sfmtls)"); !ok {
			b.Fatal("not parsed")
		}
	}
}

// TestParseErrors: the three error shapes; anything else has no code.
func TestParseErrors(t *testing.T) {
	cases := []struct {
		body string
		xml  bool
		want string
	}{
		{`[{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}]`, false, "INVALID_SESSION_ID"},
		{`  [{"message":"m","errorCode":"A"},{"errorCode":"B"}]`, false, "A"},
		{`{"exceptionCode":"InvalidSessionId","exceptionMessage":"Invalid session id"}`, false, "InvalidSessionId"},
		{`<?xml version="1.0"?><error xmlns="http://www.force.com/2009/06/asyncapi/dataload"><exceptionCode>InvalidSessionId</exceptionCode></error>`, true, "InvalidSessionId"},
		{`<error><exceptionCode>InvalidSessionId</exceptionCode></error>`, false, "InvalidSessionId"},
		{`<html>InvalidSessionId</html>`, false, ""},
		{`{"error":"invalid_grant"}`, false, ""},
		{`[{"message":"INVALID_SESSION_ID"}]`, false, ""},
		{`INVALID_SESSION_ID`, false, ""},
		{`[{"errorCode":"INVALID_SESSION_ID"`, false, ""},
	}
	for _, c := range cases {
		got := ""
		if errs := parseErrors([]byte(c.body), c.xml); len(errs) > 0 {
			got = errs[0].Code
		}
		if got != c.want {
			t.Errorf("parseErrors(%q) code %q, want %q", c.body, got, c.want)
		}
	}
}

// FuzzJudge: any body under any status gives a verdict without a panic, and
// the caller still reads the whole body.
func FuzzJudge(f *testing.F) {
	f.Fuzz(func(t *testing.T, status int, contentType, body string) {
		if status < 100 || status > 599 {
			return
		}
		resp := &http.Response{StatusCode: status, Header: http.Header{"Content-Type": {contentType}},
			Body: http.NoBody}
		if body != "" {
			resp.Body = readCloser{strings.NewReader(body)}
		}
		v, e := judge(resp)
		if v == sessionRejected && e.Code != codeInvalidSession && e.Code != codeBulkInvalidSession {
			t.Fatalf("session rejected without its code: %+v", e)
		}
		var b strings.Builder
		buf := make([]byte, 512)
		for {
			n, err := resp.Body.Read(buf)
			b.Write(buf[:n])
			if err != nil {
				break
			}
		}
		if b.String() != body {
			t.Fatalf("body changed: %q → %q", body, b.String())
		}
	})
}

type readCloser struct{ *strings.Reader }

func (readCloser) Close() error { return nil }
