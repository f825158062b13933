package salesforcetest_test

import (
	"context"
	"fmt"

	"github.com/sfmtls/sfmtls/salesforcetest"
	"github.com/sfmtls/sfmtls/transport"
)

func ExampleStart() {
	org, err := salesforcetest.Start(salesforcetest.Config{})
	if err != nil {
		panic(err)
	}
	defer org.Close()
	tr, err := transport.New(transport.Config{
		LoginURL: org.URL, ConsumerKey: org.ConsumerKey, Username: org.Username,
		MTLS: org.PKI.ClientIdentity, JWT: org.PKI.JWTIdentity, RootCAs: org.RootCAs(), Port: org.Port,
	})
	if err != nil {
		panic(err)
	}
	defer tr.CloseIdleConnections()
	resp, err := tr.Client().Get(org.InstanceURL + "/services/data/v65.0/limits")
	if err != nil {
		panic(err)
	}
	resp.Body.Close()
	org.Faults().ExpireAllSessions() // the next call meets INVALID_SESSION_ID and is replayed
	resp, err = tr.Client().Get(org.InstanceURL + "/services/data/v65.0/limits")
	if err != nil {
		panic(err)
	}
	resp.Body.Close()
	_, _ = tr.Token(context.Background())
	st := org.Stats()
	fmt.Println(resp.StatusCode, st.TokensIssued, st.Unauthorized, st.TLSHandshakes)
	// Output: 200 2 1 1
}
