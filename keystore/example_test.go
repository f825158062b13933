package keystore_test

import (
	"errors"
	"fmt"

	"github.com/sfmtls/sfmtls/keystore"
)

func ExampleLoadFile() {
	// A JKS whose key password differs from the store password, beside a trusted CA.
	id, err := keystore.LoadFile("testdata/client-keypass.jks", keystore.Options{
		Password:    "changeit",
		KeyPassword: "keypass",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(id.SourceFormat(), id.Alias(), id.Leaf().Subject.CommonName, len(id.Chain()))
	// Output: JKS client integration.user@example.com 2
}

func ExampleLoadFile_wrongPassword() {
	_, err := keystore.LoadFile("testdata/client-openssl.p12", keystore.Options{Password: "guess"})
	fmt.Println(errors.Is(err, keystore.ErrWrongPassword))
	// Output: true
}

func ExampleInspectFile() {
	r, err := keystore.InspectFile("testdata/mulesoft.jks", keystore.Options{Password: "changeit"})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, e := range r.Entries {
		fmt.Println(r.Format, e.Alias, e.Kind, e.KeyType, e.KeyBits)
		for _, w := range e.Warnings {
			fmt.Println("warning:", w)
		}
	}
	// Output:
	// JKS mulesoft private-key RSA 2048
	// warning: self-signed certificates are not valid for Salesforce mutual authentication
	// warning: no clientAuth extended key usage: a server that checks it refuses this certificate for mutual TLS
}
