package pubsub

import (
	"errors"
	"strconv"

	"google.golang.org/grpc/codes"
)

// ErrUnknownOutcome reports a publish whose answer was lost: the events may
// or may not have been published. They are never resent silently; see
// UnknownOutcomeError.
var ErrUnknownOutcome = errors.New("pubsub: the outcome of the publish is unknown")

// UnknownOutcomeError is a publish whose request may have reached
// Salesforce but whose answer did not arrive (the stream broke, the deadline
// passed). Resending could publish the events twice: check the subscribers
// (or the events' own ids) first. It matches ErrUnknownOutcome.
type UnknownOutcomeError struct {
	Topic string
	// IDs are the correlation keys of the events without an answer.
	IDs []string
	// Err is the failure that lost the answer.
	Err error
}

func (e *UnknownOutcomeError) Error() string {
	return "pubsub: publish to " + e.Topic + ": the answer for " + strconv.Itoa(len(e.IDs)) +
		" event(s) was lost, they may or may not be published: " + e.Err.Error()
}

// Fix says how to mend it.
func (e *UnknownOutcomeError) Fix() string {
	return "look for the events (by their ids) on the topic before publishing them again"
}

func (e *UnknownOutcomeError) Unwrap() []error { return []error{ErrUnknownOutcome, e.Err} }

// SessionRefusedError reports that the Pub/Sub API refused the session again
// after the token was refreshed: the token works on the org's mutual TLS
// port, but not here.
type SessionRefusedError struct {
	// Endpoint is the Pub/Sub API address; Topic what was asked for.
	Endpoint, Topic string
	// Code and Message are the gRPC status of the refusal.
	Code    codes.Code
	Message string
}

func (e *SessionRefusedError) Error() string {
	return "pubsub: " + e.Endpoint + " refused the session for " + e.Topic + " after a fresh token (" +
		e.Code.String() + ": " + e.Message + "); a user with \"Enforce SSL/TLS Mutual Authentication\" may be refused the Pub/Sub API"
}

// Fix says how to mend it.
func (e *SessionRefusedError) Fix() string {
	return "listen through the Streaming API on the org's mutual TLS port 8443 instead (events.Streaming, " +
		"`sfmtls listen` without --pubsub), or use an integration user without \"Enforce SSL/TLS Mutual Authentication\""
}

// APIError is a Pub/Sub API call Salesforce refused, with its gRPC status
// and the error-code trailer Salesforce adds (such as
// "sfdc.platform.eventbus.grpc.subscription.fetch.replayid.corrupted").
type APIError struct {
	Method    string
	Code      codes.Code
	ErrorCode string
	Message   string
}

func (e *APIError) Error() string {
	s := "pubsub: " + e.Method + " refused: " + e.Code.String()
	if e.ErrorCode != "" {
		s += " " + e.ErrorCode
	}
	return s + ": " + e.Message
}

// PublishError is one event Salesforce refused to publish.
type PublishError struct {
	ID      string // the event's correlation key
	Code    string // the error code Salesforce gave (PUBLISH, UNKNOWN)
	Message string
}

func (e *PublishError) Error() string {
	return "pubsub: event " + e.ID + " not published: " + e.Code + " " + e.Message
}

// DecodeError is an event whose payload does not decode under its schema.
// The subscription reports it (Subscriber.OnUndecodable) and goes on.
type DecodeError struct {
	Topic    string
	SchemaID string
	ReplayID []byte
	Err      error
}

func (e *DecodeError) Error() string {
	return "pubsub: an event on " + e.Topic + " (schema " + e.SchemaID + ") does not decode: " + e.Err.Error()
}

func (e *DecodeError) Unwrap() error { return e.Err }
