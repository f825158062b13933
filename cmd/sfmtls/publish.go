package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sfmtls/sfmtls/cmd/sfmtls/internal/settings"
	"github.com/sfmtls/sfmtls/transport"
)

// platformEventChannel is /event/<API name ending in __e>.
var platformEventChannel = regexp.MustCompile(`^/event/([A-Za-z][A-Za-z0-9_]*__e)$`)

// maxEventData bounds --data: a platform event's fields are at most a few
// hundred kilobytes (its text fields), far under this.
const maxEventData = 1 << 20

func newPublishCommand(e *env) *cobra.Command {
	var s *settings.Settings
	var ts *settings.TokenStore
	var data string
	var ps *pubsubFlags
	cmd := &cobra.Command{
		Use:   "publish /event/NAME__e",
		Short: "publish a platform event (a REST insert of the event object) and print its id",
		Long: `Publish a platform event: insert the event object NAME__e over REST with the
fields of --data (a JSON object), as "Publish Event Messages with Salesforce
APIs" describes, and print Salesforce's answer as one JSON line with the
event's id. With --pubsub, publish through the Pub/Sub API instead (the same
identity; --data's numbers take the types of the topic's Avro schema) and print
the event's replay id too. A failure after the request may have reached Salesforce (the
connection broke before an answer) is not sent again: it says the event may
or may not have been published.
` + connectionHelp + "\n" + sessionHelp,
		Example: `  sfmtls publish /event/Order_Placed__e --data '{"Order_Number__c":"A-1001"}'
  sfmtls publish --pubsub /event/Order_Placed__e --data '{"Order_Number__c":"A-1001"}'`,
		Args: exactArgs(1, "one channel, e.g. /event/Order_Placed__e"),
		RunE: body(func(_ *cobra.Command, args []string) error {
			m := platformEventChannel.FindStringSubmatch(args[0])
			if ps.on {
				if err := pubsubTopic(args[0]); err != nil {
					return err
				}
				m = []string{args[0], ""}
			}
			if m == nil {
				return usagef("%q is not a platform event channel: give /event/NAME__e", args[0])
			}
			fields, err := eventData(data)
			if err != nil {
				return err
			}
			if err := needSettings(s, ts); err != nil {
				return err
			}
			c, done, err := connect(s, ts, e)
			if err != nil {
				return err
			}
			defer done()
			if ps.on {
				return publishPubSub(e, ps, c, args[0], fields)
			}
			id, err := c.Create(e.ctx, m[1], fields)
			var maybe *transport.MaybeProcessedError
			if errors.As(err, &maybe) {
				return fmt.Errorf("the event may or may not have been published (no answer came): %w", err)
			}
			if err != nil {
				return err
			}
			return json.NewEncoder(e.stdout).Encode(map[string]any{"id": id, "success": true, "channel": args[0]})
		}),
	}
	cmd.Flags().StringVar(&data, "data", "", "the event's fields as a `JSON` object, e.g. '{\"Order_Number__c\":\"A-1001\"}'")
	markRequired(cmd, "data")
	ps = registerPubSubFlags(cmd, e, "publish")
	s = connectionFlags(cmd, e)
	ts = tokenStoreFlags(cmd, e)
	return cmd
}

// eventData checks that --data is one JSON object.
func eventData(data string) (json.RawMessage, error) {
	if strings.TrimSpace(data) == "" {
		return nil, usagef("--data is needed: the event's fields as a JSON object")
	}
	if len(data) > maxEventData {
		return nil, usagef("--data is %d bytes, over %d", len(data), maxEventData)
	}
	dec := json.NewDecoder(strings.NewReader(data))
	var fields map[string]json.RawMessage
	if err := dec.Decode(&fields); err != nil || fields == nil {
		return nil, usagef("--data must be a JSON object such as '{\"Order_Number__c\":\"A-1001\"}'")
	}
	if dec.More() {
		return nil, usagef("--data must be one JSON object, with nothing after it")
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, []byte(data)); err != nil {
		return nil, usagef("--data must be a JSON object")
	}
	return compact.Bytes(), nil
}
