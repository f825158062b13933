package transport

import (
	"cmp"
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/http"
	"time"
)

// The two base transports are built here, and only here: the mutual TLS one
// for the org (API calls and the token request) and the plain one for every
// other host. Connection-level settings (health checks, connection bounds)
// belong in buildBases.

// buildBases makes the org and plain bases and applies Config.WrapBase.
func (t *Transport) buildBases(cfg Config, roots *x509.CertPool) error {
	t.org = newBase(NewTLSConfig(t.mtls.Load, roots))
	t.org.MaxConnsPerHost = cmp.Or(cfg.MaxConnsPerHost, defaultMaxConnsPerHost)
	// The plain base has no GetClientCertificate: a host that asks gets none.
	t.plain = newBase(NewTLSConfig(nil, roots))
	t.orgRT, t.plainRT = t.org, t.plain
	if cfg.WrapBase != nil {
		if t.orgRT, t.plainRT = cfg.WrapBase(t.org), cfg.WrapBase(t.plain); t.orgRT == nil || t.plainRT == nil {
			return configError("WrapBase returned nil: it must return the round tripper it was given, or one wrapping it")
		}
	}
	return nil
}

func newBase(tlsConfig *tls.Config) *http.Transport {
	return &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:       tlsConfig,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   100,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
}

// defaultRetryBudget is how many retries may be spent before successes earn
// more (a tenth of a retry each).
const defaultRetryBudget = 10

// buildCalls sets what applies to every API call: retries, their budget, the
// usage cap.
func (t *Transport) buildCalls(cfg Config) error {
	t.retry = cfg.CallRetry
	if t.retry == nil {
		t.retry = Backoff{}
	}
	size := cmp.Or(cfg.RetryBudget, defaultRetryBudget)
	if size < 0 {
		size = 0 // no retries at all
	}
	t.budget = newBudget(size)
	if cfg.UsageCap < 0 || cfg.UsageCap > 1 {
		return configError("UsageCap %v is not a fraction between 0 and 1 (0.9 refuses calls past 90%% of the allocation; 0 means no cap)", cfg.UsageCap)
	}
	t.limits.capAt = cfg.UsageCap
	t.limits.log = t.log
	return nil
}
