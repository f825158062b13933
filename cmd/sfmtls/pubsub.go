package main

import (
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sfmtls/sfmtls/client"
	"github.com/sfmtls/sfmtls/pubsub"
)

// pubsubFlags are the Pub/Sub API flags of listen and publish.
type pubsubFlags struct {
	on       bool
	endpoint string
	caFile   string
	getenv   func(string) string
}

// maxCAFile bounds SF_PUBSUB_CA_FILE: a few certificates.
const maxCAFile = 1 << 20

func registerPubSubFlags(cmd *cobra.Command, e *env, verb string) *pubsubFlags {
	// Defaults come from the environment when the command runs: the help
	// shows no variable's value.
	p := &pubsubFlags{getenv: e.getenv}
	cmd.Flags().BoolVar(&p.on, "pubsub", false, verb+" through the Pub/Sub API (gRPC) with the same identity, instead of the org's mutual TLS port")
	cmd.Flags().StringVar(&p.endpoint, "pubsub-endpoint", "", "the Pub/Sub API's `HOST:PORT` (default: "+pubsub.DefaultEndpoint+") ($SF_PUBSUB_ENDPOINT)")
	cmd.Flags().StringVar(&p.caFile, "pubsub-ca-file", "", "PEM `FILE` of the CAs that sign the Pub/Sub endpoint's certificate (default: the system's) ($SF_PUBSUB_CA_FILE)")
	return p
}

// client connects to the Pub/Sub API with sf's identity.
func (p *pubsubFlags) client(sf *client.Client) (*pubsub.Client, error) {
	if p.endpoint == "" {
		p.endpoint = p.getenv("SF_PUBSUB_ENDPOINT")
	}
	if p.caFile == "" {
		p.caFile = p.getenv("SF_PUBSUB_CA_FILE")
	}
	cfg := pubsub.Config{Salesforce: sf, Endpoint: p.endpoint}
	if p.caFile != "" {
		info, err := os.Stat(p.caFile)
		if err != nil {
			return nil, err
		}
		if info.Size() > maxCAFile {
			return nil, fmt.Errorf("--pubsub-ca-file %s is over %d bytes", p.caFile, maxCAFile)
		}
		pem, err := os.ReadFile(p.caFile)
		if err != nil {
			return nil, err
		}
		cfg.RootCAs = x509.NewCertPool()
		if !cfg.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--pubsub-ca-file %s holds no PEM certificate", p.caFile)
		}
	}
	return pubsub.New(cfg)
}

// pubsubTopic checks a Pub/Sub topic name: /event/NAME__e, /data/... .
func pubsubTopic(topic string) error {
	if (strings.HasPrefix(topic, "/event/") || strings.HasPrefix(topic, "/data/")) && streamingChannel.MatchString(topic) {
		return nil
	}
	return usagef("%q is not a Pub/Sub topic: give /event/NAME__e, /data/NAMEChangeEvent or /data/ChangeEvents", topic)
}

// publishPubSub publishes one event through the Pub/Sub API and prints its
// result; a lost answer is reported, not resent.
func publishPubSub(e *env, p *pubsubFlags, sf *client.Client, topic string, fields json.RawMessage) error {
	ps, err := p.client(sf)
	if err != nil {
		return err
	}
	defer ps.Close()
	res, err := ps.Publish(e.ctx, topic, pubsub.Message{Fields: fields})
	var unknown *pubsub.UnknownOutcomeError
	if errors.As(err, &unknown) {
		return fmt.Errorf("the event may or may not have been published (no answer came): %w", err)
	}
	if err != nil {
		return err
	}
	if res[0].Err != nil {
		return res[0].Err
	}
	// replayId is the opaque replay id, in base64 (JSON's encoding of bytes).
	return json.NewEncoder(e.stdout).Encode(map[string]any{"id": res[0].ID, "success": true, "channel": topic, "replayId": res[0].ReplayID})
}
