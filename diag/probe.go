package diag

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"time"

	"github.com/sfmtls/sfmtls/keystore"
)

// maxProbeBody bounds what the probe reads of an answer.
const maxProbeBody = 64 << 10

// handshake connects to the token host with the client certificate and reads an
// HTTP answer. It tries TLS 1.2 first: there the server's verdict on the client
// certificate is part of the handshake, while under TLS 1.3 it comes after the
// client has finished, as an alert, a reset or a broken pipe, whichever the
// timing gives. Only a server without TLS 1.2 is probed with TLS 1.3.
func handshake(ctx context.Context, tokenURL string, id *keystore.Identity, roots *x509.CertPool) (string, error) {
	u, err := url.Parse(tokenURL)
	if err != nil {
		return "", err
	}
	detail, err := probe(ctx, u, id, roots, tls.VersionTLS12)
	if code, ok := remoteAlert(err); ok && code == alertProtocolVersion {
		detail, err = probe(ctx, u, id, roots, tls.VersionTLS13)
	}
	return detail, err
}

// TLS alert codes (RFC 8446 section 6) that Explain tells apart.
const (
	alertHandshakeFailure       = 40
	alertBadCertificate         = 42
	alertUnsupportedCertificate = 43
	alertCertificateRevoked     = 44
	alertCertificateExpired     = 45
	alertCertificateUnknown     = 46
	alertUnknownCA              = 48
	alertAccessDenied           = 49
	alertProtocolVersion        = 70
	alertCertificateRequired    = 116
)

// remoteAlert returns the code of a TLS alert the server sent. crypto/tls
// reports those as a net.OpError "remote error" around its unexported alert
// type, a uint8, not as tls.AlertError (which is for alerts it sends).
func remoteAlert(err error) (uint8, bool) {
	var op *net.OpError
	if !errors.As(err, &op) || op.Op != "remote error" || op.Err == nil {
		return 0, false
	}
	v := reflect.ValueOf(op.Err)
	if v.Type().PkgPath() != "crypto/tls" || v.Kind() != reflect.Uint8 {
		return 0, false
	}
	return uint8(v.Uint()), true
}

func probe(ctx context.Context, u *url.URL, id *keystore.Identity, roots *x509.CertPool, maxVersion uint16) (string, error) {
	cfg := &tls.Config{
		MinVersion: tls.VersionTLS12,
		MaxVersion: maxVersion,
		RootCAs:    roots,
		NextProtos: []string{"http/1.1"},
		// As the transport does: Salesforce's certificate request names no CAs,
		// so the certificate is offered whatever the request lists.
		GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			c := id.TLSCertificate()
			return &c, nil
		},
	}
	conn, err := (&tls.Dialer{Config: cfg}).DialContext(ctx, "tcp", u.Host)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	tc := conn.(*tls.Conn)
	if deadline, ok := ctx.Deadline(); ok {
		_ = tc.SetDeadline(deadline)
	} else {
		_ = tc.SetDeadline(time.Now().Add(stepTimeout))
	}
	_, werr := fmt.Fprintf(tc, "GET /services/data/ HTTP/1.1\r\nHost: %s\r\nUser-Agent: sfmtls-diag\r\nConnection: close\r\n\r\n", u.Host)
	resp, rerr := http.ReadResponse(bufio.NewReader(tc), nil)
	if rerr != nil || werr != nil {
		if _, ok := remoteAlert(rerr); ok {
			return "", rerr
		}
		if tc.ConnectionState().Version == tls.VersionTLS13 {
			return "", fmt.Errorf("%w (%v)", ErrRefusedAfterHandshake, errors.Join(werr, rerr))
		}
		return "", errors.Join(werr, rerr)
	}
	defer resp.Body.Close()
	body := io.LimitReader(resp.Body, maxProbeBody)
	if noCertificatePage(resp, body) {
		return "", fmt.Errorf("%w (%s answered %d with its HTML page)", ErrCertificateNotSent, u.Host, resp.StatusCode)
	}
	_, _ = io.Copy(io.Discard, body)
	st := tc.ConnectionState()
	return fmt.Sprintf("%s, %s, server %q, client certificate accepted", u.Host, tls.VersionName(st.Version), st.PeerCertificates[0].Subject.CommonName), nil
}

// noCertificateTitle is the title of the HTML page Salesforce serves on the
// mutual TLS port when a request arrives without a client certificate.
const noCertificateTitle = "no client certificate provided"

// noCertificatePage reports whether resp is that page: an error status, an
// HTML content type, and that title in the page's title element.
func noCertificatePage(resp *http.Response, body io.Reader) bool {
	if resp.StatusCode < 400 {
		return false
	}
	mt, _, err := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if err != nil || mt != "text/html" {
		return false
	}
	title, ok := htmlTitle(body)
	return ok && strings.EqualFold(title, noCertificateTitle)
}

// htmlTitle returns the text of the first title element of an HTML page, with
// white space collapsed. It parses with encoding/xml in its lenient HTML mode;
// it reads at most what body yields, and stops at the title's end.
func htmlTitle(body io.Reader) (string, bool) {
	d := xml.NewDecoder(body)
	d.Strict = false
	d.AutoClose = xml.HTMLAutoClose
	d.Entity = xml.HTMLEntity
	var title strings.Builder
	in := false
	for {
		tok, err := d.Token()
		if err != nil {
			return "", false
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if strings.EqualFold(t.Name.Local, "title") {
				in = true
			}
		case xml.CharData:
			if in {
				title.Write(t)
			}
		case xml.EndElement:
			if in && strings.EqualFold(t.Name.Local, "title") {
				return strings.Join(strings.Fields(title.String()), " "), true
			}
		}
	}
}
