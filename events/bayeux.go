package events

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"
)

// The Bayeux protocol as Salesforce's Streaming API speaks it (CometD 1.0
// long-polling): messages are JSON objects, sent and answered in arrays.
// What is parsed here comes from the network and is untrusted: every parser
// bounds what it reads and fails rather than panics.

// Meta channels.
const (
	metaHandshake   = "/meta/handshake"
	metaConnect     = "/meta/connect"
	metaSubscribe   = "/meta/subscribe"
	metaUnsubscribe = "/meta/unsubscribe"
	metaDisconnect  = "/meta/disconnect"
)

// Replay ids with a meaning of their own (the replay extension).
const (
	replayNewID = -1 // new events only
	replayAllID = -2 // every retained event
)

// request is a message this client sends.
type request struct {
	Channel                  string         `json:"channel"`
	ID                       string         `json:"id,omitempty"`
	ClientID                 string         `json:"clientId,omitempty"`
	Version                  string         `json:"version,omitempty"`
	MinimumVersion           string         `json:"minimumVersion,omitempty"`
	SupportedConnectionTypes []string       `json:"supportedConnectionTypes,omitempty"`
	ConnectionType           string         `json:"connectionType,omitempty"`
	Subscription             string         `json:"subscription,omitempty"`
	Advice                   *advice        `json:"advice,omitempty"`
	Ext                      map[string]any `json:"ext,omitempty"`
}

// message is a message the server sends: a reply on a meta channel, or an
// event on the subscribed channel.
type message struct {
	Channel    string          `json:"channel"`
	ClientID   string          `json:"clientId"`
	Successful bool            `json:"successful"`
	Error      string          `json:"error"`
	Advice     *advice         `json:"advice"`
	Data       json.RawMessage `json:"data"`
	Ext        json.RawMessage `json:"ext"`
}

// advice is the server's advice on reconnecting.
type advice struct {
	Reconnect string `json:"reconnect,omitempty"` // retry, handshake, none
	Timeout   int64  `json:"timeout,omitempty"`   // milliseconds a connect may be held
	Interval  int64  `json:"interval,omitempty"`  // milliseconds to wait before the next connect
}

// Bounds on what the server may make this client hold.
const (
	// maxAnswer bounds one answer's body: a batch of events is read whole
	// before the first is handled, so this bounds the subscription's memory.
	maxAnswer = 16 << 20
	// maxAdviceWait bounds the waits advice may ask for.
	maxAdviceTimeout  = 10 * time.Minute
	maxAdviceInterval = time.Minute
)

// errAnswerTooLarge: an answer passed maxAnswer.
var errAnswerTooLarge = errors.New("events: a Streaming API answer exceeded " + strconv.Itoa(maxAnswer>>20) + " MiB")

// parseMessages parses an answer: an array of messages (a single object is
// accepted too, as some servers send one).
func parseMessages(body []byte) ([]message, error) {
	body = bytes.TrimSpace(body)
	if len(body) > maxAnswer {
		return nil, errAnswerTooLarge
	}
	if len(body) > 0 && body[0] == '{' {
		var m message
		if err := json.Unmarshal(body, &m); err != nil {
			return nil, errors.New("events: the Streaming API's answer is not a Bayeux message: " + err.Error())
		}
		return []message{m}, nil
	}
	var ms []message
	if err := json.Unmarshal(body, &ms); err != nil {
		return nil, errors.New("events: the Streaming API's answer is not an array of Bayeux messages: " + err.Error())
	}
	return ms, nil
}

// bayeuxCode parses a Bayeux error field, "code:args:message" (Bayeux 1.0
// §5.1.4; Salesforce sends "403::Unknown client"), into its code and
// message. A field that does not start with a three-digit code has code 0.
func bayeuxCode(field string) (int, string) {
	code, rest, ok := strings.Cut(field, ":")
	if !ok || len(code) != 3 {
		return 0, field
	}
	n, err := strconv.Atoi(code)
	if err != nil || n < 100 {
		return 0, field
	}
	_, msg, _ := strings.Cut(rest, ":")
	return n, msg
}

// handshakeFailure parses the reason Salesforce nests in a failed
// handshake's ext.sfdc.failureReason ("401::Authentication invalid").
func handshakeFailure(ext json.RawMessage) int {
	if len(ext) == 0 {
		return 0
	}
	var e struct {
		SFDC struct {
			FailureReason string `json:"failureReason"`
		} `json:"sfdc"`
	}
	if json.Unmarshal(ext, &e) != nil {
		return 0
	}
	code, _ := bayeuxCode(e.SFDC.FailureReason)
	return code
}

// eventData is the data of an event message, in the shapes of the four kinds
// of channel: change events and platform events carry schema and payload (an
// object), PushTopic events sobject, generic events payload (a string).
type eventData struct {
	Event struct {
		ReplayID    *int64 `json:"replayId"`
		CreatedDate string `json:"createdDate"`
		Type        string `json:"type"` // PushTopic: created, updated, deleted, undeleted
	} `json:"event"`
	Payload json.RawMessage `json:"payload"`
	SObject json.RawMessage `json:"sobject"`
}

// parseEvent turns an event message of channel into an Event.
func parseEvent(channel string, raw json.RawMessage) (Event, error) {
	var d eventData
	if err := json.Unmarshal(raw, &d); err != nil {
		return Event{}, errors.New("events: an event on " + channel + " is not JSON: " + err.Error())
	}
	if d.Event.ReplayID == nil {
		return Event{}, errors.New("events: an event on " + channel + " has no replayId")
	}
	id := *d.Event.ReplayID
	ev := Event{Channel: channel, ReplayID: id, Position: strconv.AppendInt(nil, id, 10)}
	if t, ok := parseTime(d.Event.CreatedDate); ok {
		ev.Time = t
	}
	switch {
	case strings.HasPrefix(channel, "/topic/"):
		ev.Data = d.SObject
		if ct := pushTopicChange[d.Event.Type]; ct != "" {
			var rec struct {
				ID string `json:"Id"`
			}
			_ = json.Unmarshal(d.SObject, &rec)
			ev.Change = &ChangeHeader{ChangeType: ct}
			if rec.ID != "" {
				ev.Change.RecordIDs = []string{rec.ID}
			}
		}
	case strings.HasPrefix(channel, "/data/"):
		ev.Data = d.Payload
		var p struct {
			Header *ChangeHeader `json:"ChangeEventHeader"`
		}
		if err := json.Unmarshal(d.Payload, &p); err != nil || p.Header == nil {
			return Event{}, errors.New("events: a change event on " + channel + " has no ChangeEventHeader")
		}
		ev.Change = p.Header
		if ev.Time.IsZero() && p.Header.CommitTimestamp > 0 {
			ev.Time = time.UnixMilli(p.Header.CommitTimestamp).UTC()
		}
	default: // /event/ platform events and /u/ generic events
		ev.Data = d.Payload
		if ev.Time.IsZero() && len(d.Payload) > 0 && d.Payload[0] == '{' {
			var p struct {
				CreatedDate string `json:"CreatedDate"`
			}
			if json.Unmarshal(d.Payload, &p) == nil {
				if t, ok := parseTime(p.CreatedDate); ok {
					ev.Time = t
				}
			}
		}
	}
	return ev, nil
}

// pushTopicChange maps a PushTopic event's type to a change type.
var pushTopicChange = map[string]string{
	"created": "CREATE", "updated": "UPDATE", "deleted": "DELETE", "undeleted": "UNDELETE",
}

// parseTime reads Salesforce's timestamps: 2016-03-29T19:05:28.334Z, or
// with +0000 before API version 37.0.
func parseTime(s string) (time.Time, bool) {
	if s == "" {
		return time.Time{}, false
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.000-0700"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}
