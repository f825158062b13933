package transport_test

import (
	"context"
	"fmt"
	"io"

	"github.com/sfmtls/sfmtls/salesforcetest"
	"github.com/sfmtls/sfmtls/transport"
)

func ExampleNew() {
	org, err := salesforcetest.Start(salesforcetest.Config{})
	if err != nil {
		panic(err)
	}
	defer org.Close()

	tr, err := transport.New(transport.Config{
		LoginURL:    org.URL, // in production: https://<My Domain>.my.salesforce.com
		ConsumerKey: org.ConsumerKey,
		Username:    org.Username,
		MTLS:        org.PKI.ClientIdentity, // from keystore.LoadFile in production
		JWT:         org.PKI.JWTIdentity,
		RootCAs:     org.RootCAs(), // nil in production: the system roots
		Port:        org.Port,      // 0 in production: 8443
	})
	if err != nil {
		panic(err)
	}
	defer tr.CloseIdleConnections()
	base, err := tr.InstanceURL(context.Background())
	if err != nil {
		panic(err)
	}
	resp, err := tr.Client().Get(base.String() + "/services/data/")
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	fmt.Println(resp.Status, resp.Proto, tr.Stats().TokenFetches)
	// Output: 200 OK HTTP/2.0 1
}
