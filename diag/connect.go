package diag

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/sfmtls/sfmtls/auth"
	"github.com/sfmtls/sfmtls/client"
	"github.com/sfmtls/sfmtls/keystore"
)

// conn is the client Check talks through, built as a service would build it.
type conn struct{ c *client.Client }

// handshake probes the token endpoint with the client certificate. A
// TokenSource without LoginURL leaves no login host to probe: then it probes
// the instance its token names, on the mutual TLS port, and says so.
func (c *conn) handshake(ctx context.Context, id *keystore.Identity, roots *x509.CertPool) (string, error) {
	tr := c.c.Transport()
	if u := tr.TokenURL(); u != "" {
		return handshake(ctx, u, id, roots)
	}
	inst, err := tr.InstanceURL(ctx)
	if err != nil {
		return "", fmt.Errorf("diag: %w: %w", ErrNoLoginURL, err)
	}
	detail, err := handshake(ctx, inst.String(), id, roots)
	if err != nil {
		return "", err
	}
	return detail + " (no LoginURL: probed the instance URL of the TokenSource's token)", nil
}

func (c *conn) token(ctx context.Context) (*auth.Token, error) { return c.c.Token(ctx) }

// rest lists the resources of the API version in use: a call that needs the
// token, the instance and the mutual TLS port all to be right.
func (c *conn) rest(ctx context.Context) (string, error) {
	v, err := c.c.APIVersion(ctx)
	if err != nil {
		return "", err
	}
	path := "/services/data/v" + v + "/"
	var resources json.RawMessage
	if err := c.c.Do(ctx, http.MethodGet, path, nil, &resources); err != nil {
		return "", err
	}
	base, err := c.c.InstanceURL(ctx)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("GET %s%s -> 200", base, path), nil
}
