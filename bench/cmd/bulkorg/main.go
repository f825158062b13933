// Command bulkorg runs a fake org in its own process for the Bulk API 2.0
// benchmarks, so the org's memory does not count in the client's heap. It
// seeds -records Accounts, writes the keystores to -dir, prints one JSON line
// of settings on standard output, and runs until standard input closes.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"os"

	"github.com/sfmtls/sfmtls/salesforcetest"
)

// Settings is what the benchmark needs to reach the org.
type Settings struct {
	URL, ConsumerKey, Username, Audience string
	Port                                 int
	MTLSKeystore, JWTKeystore, ServerCA  string
	MTLSCert, MTLSKey, JWTCert, JWTKey   string // PEM, for the peer
	Password                             string
}

func main() {
	dir := flag.String("dir", "", "directory for the keystores (required)")
	records := flag.Int("records", 0, "Accounts to seed")
	flag.Parse()
	if *dir == "" {
		log.Fatal("bulkorg: -dir is required")
	}
	// BenchmarkBulkIngest1M stores a million rows per iteration (run it
	// with -benchtime 1x): the cap must let a whole job through.
	org, err := salesforcetest.Start(salesforcetest.Config{DailyAPIRequests: 1 << 40, BulkStoreMaxRecords: 1 << 30})
	if err != nil {
		log.Fatal(err)
	}
	defer org.Close()
	for i := range *records {
		if _, err := org.Data().Create("Account", map[string]any{"Name": fmt.Sprintf("Seed %07d", i), "NumberOfEmployees": i % 5000}); err != nil {
			log.Fatal(err)
		}
	}
	const password = "bench-password"
	files, err := org.PKI.WriteFiles(*dir, password)
	if err != nil {
		log.Fatal(err)
	}
	s := Settings{URL: org.URL, ConsumerKey: org.ConsumerKey, Username: org.Username, Audience: org.Audience,
		Port: org.Port, MTLSKeystore: files.MTLSJKS, JWTKeystore: files.JWTJKS, ServerCA: files.ServerCA, Password: password,
		MTLSCert: files.MTLSCert, MTLSKey: files.MTLSKey, JWTCert: files.JWTCert, JWTKey: files.JWTKey}
	if err := json.NewEncoder(os.Stdout).Encode(s); err != nil {
		log.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, os.Stdin) // run until the benchmark closes standard input
}
