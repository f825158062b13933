// Command streamorg runs a fake org in its own process for the Streaming API
// benchmarks, so the org's memory (its records and retained events) does not
// count in the listener's heap. It selects Account for Change Data Capture,
// creates -records Accounts (each a change event), writes the keystores to
// -dir, prints one JSON line of settings on standard output (cmd/bulkorg's
// shape), and runs until standard input closes.
package main

import (
	"encoding/json"
	"flag"
	"io"
	"log"
	"os"
	"strconv"
	"time"

	"github.com/sfmtls/sfmtls/salesforcetest"
)

// Settings is what the benchmark needs to reach the org.
type Settings struct {
	URL, ConsumerKey, Username, Audience string
	Port                                 int
	MTLSKeystore, JWTKeystore, ServerCA  string
	Password                             string
}

func main() {
	dir := flag.String("dir", "", "directory for the keystores (required)")
	records := flag.Int("records", 0, "Accounts to create, each a change event")
	flag.Parse()
	if *dir == "" {
		log.Fatal("streamorg: -dir is required")
	}
	org, err := salesforcetest.Start(salesforcetest.Config{DailyAPIRequests: 1 << 40})
	if err != nil {
		log.Fatal(err)
	}
	defer org.Close()
	if err := org.Setup().EnableChangeEvents("Account"); err != nil {
		log.Fatal(err)
	}
	for i := range *records {
		if _, err := org.Data().Create("Account", map[string]any{"Name": "Stream " + strconv.Itoa(i)}); err != nil {
			log.Fatal(err)
		}
		// The change feed hands changes to the streaming side through a
		// bounded buffer: pause now and then so that it keeps up (a change
		// it lost would be a GAP_OVERFLOW event, which the benchmark refuses).
		if i%1000 == 999 {
			time.Sleep(20 * time.Millisecond)
		}
	}
	const password = "bench-password"
	files, err := org.PKI.WriteFiles(*dir, password)
	if err != nil {
		log.Fatal(err)
	}
	s := Settings{URL: org.URL, ConsumerKey: org.ConsumerKey, Username: org.Username, Audience: org.Audience,
		Port: org.Port, MTLSKeystore: files.MTLSJKS, JWTKeystore: files.JWTJKS, ServerCA: files.ServerCA, Password: password}
	if err := json.NewEncoder(os.Stdout).Encode(s); err != nil {
		log.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, os.Stdin) // run until the benchmark closes standard input
}
