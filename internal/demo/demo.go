// Package demo serves the runnable examples: with SF_* settings they talk to a
// real org; without, to a fake org started in-process whose keystores are
// written to a temporary directory, so every example runs with no setup.
package demo

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/sfmtls/sfmtls/client"
	"github.com/sfmtls/sfmtls/internal/settings"
	"github.com/sfmtls/sfmtls/salesforcetest"
)

// Env is where an example runs.
type Env struct {
	Org      *salesforcetest.Org // nil against a real org
	Files    *salesforcetest.Files
	Password string // protects Files' keystores
	Dir      string
}

// Close stops the fake org and removes its files.
func (e *Env) Close() {
	if e.Org != nil {
		e.Org.Close()
		os.RemoveAll(e.Dir)
	}
}

// Settings returns the SF_* settings, or nil when none is set.
func Settings(getenv func(string) string) *settings.Settings {
	if s := settings.FromEnv(getenv); s.Any() {
		return s
	}
	return nil
}

// StartFakeOrg starts a fake org with records to page through and writes its
// keystores (JKS, PKCS#12, PEM) into a new temporary directory.
func StartFakeOrg(w io.Writer, pageSize int) (*Env, error) {
	org, err := salesforcetest.Start(salesforcetest.Config{PageSize: pageSize})
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "sfmtls-example-")
	if err != nil {
		org.Close()
		return nil, err
	}
	raw := make([]byte, 12)
	_, _ = rand.Read(raw)
	e := &Env{Org: org, Password: hex.EncodeToString(raw), Dir: dir}
	if e.Files, err = org.PKI.WriteFiles(dir, e.Password); err != nil {
		e.Close()
		return nil, err
	}
	for _, name := range []string{"Acme", "Globex", "Initech", "Umbrella", "Hooli"} {
		org.Insert("Account", map[string]any{"Name": name})
	}
	fmt.Fprintf(w, "No SF_* settings: using a fake org at %s (keystores in %s).\n", org.URL, dir)
	return e, nil
}

// FakeClientConfig fills what the fake org needs beside the identities: where
// it is, its consumer key and user, and its server CA.
func (e *Env) FakeClientConfig() client.Config {
	cfg := client.Config{Config: e.Org.TransportConfig()}
	cfg.MTLS, cfg.JWT = nil, nil // each example loads its own keystores
	return cfg
}

// Flow runs what every example shows once connected: a token over mutual TLS,
// the API version, and a query.
func Flow(ctx context.Context, w io.Writer, cfg client.Config) error {
	c, err := client.New(cfg)
	if err != nil {
		return err
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if _, err := c.Token(ctx); err != nil {
		return err
	}
	v, err := c.APIVersion(ctx)
	if err != nil {
		return err
	}
	n := 0
	for _, err := range client.Query[map[string]any](ctx, c, "SELECT Id, Name FROM Account LIMIT 10") {
		if err != nil {
			return err
		}
		n++
	}
	fmt.Fprintf(w, "connected over mutual TLS: API v%s, %d Account records read, %d token request(s)\n", v, n, c.Stats().TokenFetches)
	return nil
}

// Run is an example's whole life: with SF_* settings, Flow against that org;
// without, a fake org whose client.Config fake builds from the keystore files,
// which is the part each example exists to show.
func Run(ctx context.Context, w io.Writer, getenv func(string) string, fake func(*Env) (client.Config, error)) error {
	if s := Settings(getenv); s != nil {
		cfg, err := s.ClientConfig(getenv)
		if err != nil {
			return err
		}
		return Flow(ctx, w, cfg)
	}
	env, err := StartFakeOrg(w, 200)
	if err != nil {
		return err
	}
	defer env.Close()
	cfg, err := fake(env)
	if err != nil {
		return err
	}
	return Flow(ctx, w, cfg)
}
