package transport_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sfmtls/sfmtls/salesforcetest"
	"github.com/sfmtls/sfmtls/transport"
)

// noDeadlineConn is a connection that refuses deadlines, as one from a
// WrapBase dialer may.
type noDeadlineConn struct{ net.Conn }

func (noDeadlineConn) SetDeadline(time.Time) error { return errors.New("no deadlines here") }

// TestHandshakeTimeout: a server that accepts connections and never answers
// the handshake fails the token request with the base's TLS handshake
// timeout, whether the connection takes a deadline or refuses one.
func TestHandshakeTimeout(t *testing.T) {
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { silent.Close() })
	go func() {
		var held []net.Conn
		defer func() {
			for _, c := range held {
				c.Close()
			}
		}()
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			held = append(held, c) // read nothing, answer nothing
		}
	}()
	org := salesforcetest.NewOrg(t, salesforcetest.Config{})
	for name, deadlines := range map[string]bool{"deadline": true, "context": false} {
		t.Run(name, func(t *testing.T) {
			cfg := configFor(org)
			cfg.LoginURL = "https://" + silent.Addr().String()
			cfg.LoginRetry = transport.NoRetry
			cfg.WrapBase = func(rt http.RoundTripper) http.RoundTripper {
				base := rt.(*http.Transport)
				base.TLSHandshakeTimeout = 50 * time.Millisecond
				if !deadlines {
					dial := base.DialContext
					base.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
						c, err := dial(ctx, network, addr)
						if err != nil {
							return nil, err
						}
						return noDeadlineConn{c}, nil
					}
				}
				return base
			}
			tr := newTransport(t, cfg)
			_, err := tr.Token(t.Context())
			require.Error(t, err)
			assert.Contains(t, err.Error(), "TLS handshake timeout")
			var ne net.Error
			require.ErrorAs(t, err, &ne)
			assert.True(t, ne.Timeout())
		})
	}
}
