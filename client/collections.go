package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"

	"github.com/sfmtls/sfmtls/internal/retry"
)

// Limits of sObject Collections (REST API Developer Guide, "Create Records
// Using sObject Collections" and siblings: "up to 200 records"; "Retrieve
// Multiple Records with Fewer Round-Trips": a POST retrieves up to 2,000).
const (
	maxCollectionRecords  = 200
	maxCollectionRetrieve = 2000
	// defaultCollectionParallelism is how many chunks are in flight when
	// CollectionOptions.Parallelism is 0: the transport's default connections
	// per host, well under the org's 25 long-running concurrent calls.
	defaultCollectionParallelism = 4
)

// CollectionOptions tunes an sObject Collections call.
//
// Records are sent in chunks of 200 (retrieve: 2,000 ids), one API call each.
// Chunks are independent requests: AllOrNone makes each chunk all or none —
// a failing record rolls back the other records of its chunk only, never
// chunks already committed. With AllOrNone set, a chunk with a failed
// record also stops the call: chunks not yet sent are not sent (they are
// reported in a *CollectionError). Wrap the call in your own compensation,
// or use one chunk (≤ 200 records), when the whole set must be atomic.
type CollectionOptions struct {
	// AllOrNone rolls back a chunk's records when any of them fails
	// (Salesforce's allOrNone, per request).
	AllOrNone bool
	// Parallelism is how many chunks are in flight at once; 0 means 4 (the
	// transport's default connections per host, well under the org's 25
	// long-running concurrent calls), 1 sends them one after another.
	Parallelism int
}

// ChunkState says what happened to one chunk of a Collections call.
type ChunkState int

const (
	// ChunkAnswered chunks got a result per record; the results are in the
	// slice the call returned.
	ChunkAnswered ChunkState = iota
	// ChunkFailed chunks got no per-record results: the call failed as a
	// whole, or its answer did not match the records sent (Err says why,
	// an *AnswerMismatchError for the latter). A write chunk whose answer was
	// lost or does not match may have been committed: see
	// Chunk.OutcomeUnknown.
	ChunkFailed
	// ChunkNotSent chunks were never sent: an earlier chunk failed, the
	// context ended, or a record of theirs or of an earlier chunk was refused
	// as it was encoded (Err wraps ErrInvalidRequest for the chunk that held
	// it). Salesforce did not see them.
	ChunkNotSent
)

// String names the state: answered, failed or not sent.
func (s ChunkState) String() string {
	switch s {
	case ChunkAnswered:
		return "answered"
	case ChunkFailed:
		return "failed"
	case ChunkNotSent:
		return "not sent"
	}
	return "ChunkState(" + strconv.Itoa(int(s)) + ")"
}

// Chunk is one request of a Collections call: the input records
// [Start, End) and what became of them.
type Chunk struct {
	Start, End int
	State      ChunkState
	Err        error // for ChunkFailed, and ChunkNotSent when the context ended or a record was refused
	write      bool
}

// OutcomeUnknown reports whether the chunk was a write that may or may not
// have been committed: it failed without an answer from Salesforce (a cut
// connection, a timeout), with an answer that does not match the records
// sent (*AnswerMismatchError), or with a 5xx that does not say the request
// went unprocessed (as a 503 or SERVER_UNAVAILABLE does). The
// SDK never resends such a chunk: check with a query before writing those
// records again.
func (c Chunk) OutcomeUnknown() bool {
	if !c.write || c.State != ChunkFailed {
		return false
	}
	var apiErr *APIError
	if !errors.As(c.Err, &apiErr) {
		return true
	}
	return apiErr.StatusCode >= 500 && !apiErr.notProcessed()
}

// UnmarshalJSON reads an error of either form Salesforce sends: the REST
// error array's errorCode, or the statusCode of the SaveResult and
// DeleteResult errors in sObject Collections answers (REST API Developer
// Guide, "Create Records Using sObject Collections" examples), so
// SaveResult decodes both a single write's answer and a collection's.
func (e *RESTError) UnmarshalJSON(b []byte) error {
	var both struct {
		Message    string   `json:"message"`
		ErrorCode  string   `json:"errorCode"`
		StatusCode string   `json:"statusCode"`
		Fields     []string `json:"fields"`
	}
	if err := json.Unmarshal(b, &both); err != nil {
		return err
	}
	*e = RESTError{Message: both.Message, ErrorCode: both.ErrorCode, Fields: both.Fields}
	if e.ErrorCode == "" {
		e.ErrorCode = both.StatusCode
	}
	return nil
}

// CreateRecords inserts records of type sobject with sObject Collections
// (POST /composite/sobjects), in chunks of 200 sent with bounded
// parallelism (see CollectionOptions). T is any type that marshals to a JSON
// object, such as the struct you query with; its Id, when empty, is left
// out, as a create must not send one. The result has one SaveResult per
// record, in input order, with Salesforce's errors for the records it
// refused. A chunk that got no answer, or an answer that does not match the
// records sent (one result per record, in order, no new record reported
// twice: *AnswerMismatchError), is reported in a *CollectionError, its
// results left at zero values; the results of the other chunks are kept.
func CreateRecords[T any](ctx context.Context, c *Client, sobject string, records []T, opts CollectionOptions) ([]SaveResult, error) {
	enc, err := newChunkEncoder(sobject, records, recordCreate, opts.AllOrNone)
	if err != nil {
		return nil, err
	}
	p, err := c.dataPath(ctx, "composite", "sobjects")
	if err != nil {
		return nil, err
	}
	return c.saveChunks(ctx, "create", sobject, http.MethodPost, p, len(records), enc, nil, opts)
}

// UpdateRecords updates records of type sobject with sObject Collections
// (PATCH /composite/sobjects). Each record must carry its Id; the fields it
// marshals are the fields changed. Chunking, ordering and errors are as for
// CreateRecords.
func UpdateRecords[T any](ctx context.Context, c *Client, sobject string, records []T, opts CollectionOptions) ([]SaveResult, error) {
	enc, err := newChunkEncoder(sobject, records, recordUpdate, opts.AllOrNone)
	if err != nil {
		return nil, err
	}
	p, err := c.dataPath(ctx, "composite", "sobjects")
	if err != nil {
		return nil, err
	}
	return c.saveChunks(ctx, "update", sobject, http.MethodPatch, p, len(records), enc, make([]string, len(records)), opts)
}

// UpsertRecords inserts or updates records of type sobject matched on
// externalIDField (PATCH /composite/sobjects/{sobject}/{externalIDField},
// API 46.0+). Each record carries its external id value and no Id; a
// SaveResult's Created says whether it was inserted. Chunking, ordering and
// errors are as for CreateRecords.
func UpsertRecords[T any](ctx context.Context, c *Client, sobject, externalIDField string, records []T, opts CollectionOptions) ([]SaveResult, error) {
	if externalIDField == "" {
		return nil, invalidRequest("UpsertRecords needs the external id field's name, such as External_Id__c")
	}
	enc, err := newChunkEncoder(sobject, records, recordCreate, opts.AllOrNone)
	if err != nil {
		return nil, err
	}
	p, err := c.dataPath(ctx, "composite", "sobjects", sobject, externalIDField)
	if err != nil {
		return nil, err
	}
	return c.saveChunks(ctx, "upsert", sobject, http.MethodPatch, p, len(records), enc, nil, opts)
}

// DeleteRecords deletes records by id with sObject Collections (DELETE
// /composite/sobjects?ids=…), 200 ids a request; the ids may be of
// different objects. The result has one SaveResult per id, in input order.
// Chunking and errors are as for CreateRecords.
func DeleteRecords(ctx context.Context, c *Client, ids []string, opts CollectionOptions) ([]SaveResult, error) {
	for i, id := range ids {
		if id == "" || strings.Contains(id, ",") {
			return nil, invalidRequest("DeleteRecords: id %d is %q: give 15- or 18-character record ids", i, id)
		}
	}
	p, err := c.dataPath(ctx, "composite", "sobjects")
	if err != nil {
		return nil, err
	}
	results := make([]SaveResult, len(ids))
	chunks := c.runChunks(ctx, len(ids), maxCollectionRecords, opts, true, func(ctx context.Context, start, end int) (bool, error) {
		q := url.Values{"ids": {strings.Join(ids[start:end], ",")}, "allOrNone": {strconv.FormatBool(opts.AllOrNone)}}
		var answer []SaveResult
		// DELETE is idempotent, so the transport would resend it after a lost
		// answer; here a second send would report the records the first one
		// deleted as ENTITY_IS_DELETED and hide that they were deleted. So an
		// attempt that got no answer is not resent: the chunk's outcome is unknown.
		ctx = retry.AnsweredOnly(ctx)
		if err := c.Do(ctx, http.MethodDelete, p+"?"+q.Encode(), nil, &answer); err != nil {
			return false, err
		}
		return fillResults("delete", results[start:end], answer, ids[start:end], start)
	})
	return results, collectionErr("delete", "", chunks)
}

// RetrieveRecords reads records of type sobject by id with sObject
// Collections (POST /composite/sobjects/{sobject}, 2,000 ids a request),
// decoding the fields named into T. The result has one entry per id, in
// input order; an entry is nil where Salesforce answered null: an id that
// does not exist or that the user cannot read. A record answered at
// another id's place (its Id, or its attributes' url, names another record)
// fails its chunk with an *AnswerMismatchError, the chunk's entries left nil.
// A retrieve is a read, so a chunk whose call fails without an answer is
// retried as a GET would be; an answer over Config.MaxResponseBytes is not.
func RetrieveRecords[T any](ctx context.Context, c *Client, sobject string, ids, fields []string, opts CollectionOptions) ([]*T, error) {
	if len(fields) == 0 {
		return nil, invalidRequest("RetrieveRecords needs the fields to read, such as []string{\"Id\", \"Name\"}")
	}
	p, err := c.dataPath(ctx, "composite", "sobjects", sobject)
	if err != nil {
		return nil, err
	}
	out := make([]*T, len(ids))
	chunks := c.runChunks(ctx, len(ids), maxCollectionRetrieve, opts, false, func(ctx context.Context, start, end int) (bool, error) {
		body := map[string][]string{"ids": ids[start:end], "fields": fields}
		var answer []json.RawMessage
		// A read sent as a POST: the transport may send it again.
		if err := c.Do(retry.Repeatable(ctx), http.MethodPost, p, body, &answer); err != nil {
			return false, err
		}
		if len(answer) != end-start {
			return false, &AnswerMismatchError{Operation: "retrieve",
				Reason: fmt.Sprintf("%d records answered for %d ids", len(answer), end-start)}
		}
		// Decoded aside, and kept only when the whole chunk is sound: a failed
		// chunk's records stay nil.
		got := make([]*T, len(answer))
		for i, raw := range answer {
			if bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
				continue
			}
			if id := answeredID(raw); id != "" && !sameID(ids[start+i], id) {
				return false, &AnswerMismatchError{Operation: "retrieve",
					Reason: fmt.Sprintf("record %d is %s, but id %d is %s", start+i, shorten(id), start+i, ids[start+i])}
			}
			v := new(T)
			if err := json.Unmarshal(raw, v); err != nil {
				return false, fmt.Errorf("client: retrieve %s: decoding record %d: %w", sobject, start+i, err)
			}
			got[i] = v
		}
		copy(out[start:end], got)
		return true, nil
	})
	return out, collectionErr("retrieve", sobject, chunks)
}

// answeredID is the id of a retrieved record: its Id field, else the last
// element of its attributes' url (REST API Developer Guide, "Retrieve
// Multiple Records with Fewer Round-Trips": each record holds attributes
// with its type and url, /services/data/vXX.X/sobjects/Account/{id}); ""
// when it holds neither.
func answeredID(raw json.RawMessage) string {
	var rec struct {
		ID         string `json:"Id"`
		Attributes struct {
			URL string `json:"url"`
		} `json:"attributes"`
	}
	if json.Unmarshal(raw, &rec) != nil {
		return "" // not an object: decoding it into T says so
	}
	if rec.ID != "" {
		return rec.ID
	}
	if i := strings.LastIndexByte(rec.Attributes.URL, '/'); i >= 0 {
		return rec.Attributes.URL[i+1:]
	}
	return ""
}

// saveChunks sends the create, update and upsert chunks of n records,
// encoding each chunk's body just before it is sent, so that the first chunk
// is on the wire while later ones are still to be encoded. The first chunk is
// encoded before anything is sent: a record it refuses fails the call with
// ErrInvalidRequest and nothing sent. A record a later chunk refuses leaves
// that chunk and those after it not sent (Chunk.Err says why). ids, for an
// update, receives each record's id as its chunk is encoded; nil for a
// create or upsert.
func (c *Client) saveChunks(ctx context.Context, op, sobject, method, path string, n int, encode chunkEncoder, ids []string, opts CollectionOptions) ([]SaveResult, error) {
	var first []byte
	if n > 0 {
		var err error
		if first, err = encode(nil, 0, min(n, maxCollectionRecords), ids); err != nil {
			return nil, err
		}
	}
	results := make([]SaveResult, n)
	chunks := c.runChunks(ctx, n, maxCollectionRecords, opts, true, func(ctx context.Context, start, end int) (bool, error) {
		body := first
		if start > 0 {
			var err error
			// Sized as the first chunk, which is usually as large.
			if body, err = encode(make([]byte, 0, len(first)+len(first)/8), start, end, ids); err != nil {
				return false, &notSentError{err}
			}
		}
		var answer []SaveResult
		if err := c.Do(ctx, method, path, rawJSON(body), &answer); err != nil {
			return false, err // never resent: the write may have been committed
		}
		var sent []string
		if ids != nil {
			sent = ids[start:end]
		}
		return fillResults(op, results[start:end], answer, sent, start)
	})
	if op == "create" {
		newIDsOnce(op, results, chunks)
	}
	return results, collectionErr(op, sobject, chunks)
}

// notSentError is a chunk's error found before it was sent.
type notSentError struct{ err error }

func (e *notSentError) Error() string { return e.err.Error() }

// fillResults checks a chunk's answer against what was sent (checkAnswer)
// and, when it matches, copies it into the chunk's results; allOK reports
// whether every record succeeded. An answer that does not match fills
// nothing: the chunk fails with an *AnswerMismatchError.
func fillResults(op string, dst []SaveResult, answer []SaveResult, sent []string, start int) (allOK bool, err error) {
	if err := checkAnswer(op, answer, len(dst), sent, start); err != nil {
		return false, err
	}
	allOK = true
	for i, r := range answer {
		if r.Errors == nil {
			r.Errors = []RESTError{}
		}
		dst[i] = r
		allOK = allOK && r.Success
	}
	return allOK, nil
}

// checkAnswer checks the SaveResults (DeleteResults, UpsertResults) of a
// chunk of n records against what was sent, whose first record is the
// call's record start. Salesforce answers one result per record, in the
// order sent (REST API Developer Guide, "Create Records Using sObject
// Collections" and its update, upsert and delete siblings). sent holds the
// ids of an update's or delete's records (nil for a create or upsert): a
// result that carries an id must carry the one sent at its place, and a
// success must carry it (the Guide's examples answer a failed record, such
// as a MALFORMED_ID, without an id). A create's or upsert's successes must
// each carry a record id, no two the same.
func checkAnswer(op string, answer []SaveResult, n int, sent []string, start int) error {
	mismatch := func(format string, args ...any) error {
		return &AnswerMismatchError{Operation: op, Reason: fmt.Sprintf(format, args...)}
	}
	if len(answer) != n {
		return mismatch("%d results answered for %d records", len(answer), n)
	}
	seen := make(map[string]int, n)
	for i, r := range answer {
		switch {
		case sent != nil:
			if r.ID != "" && !sameID(sent[i], r.ID) {
				return mismatch("result %d is for record %s, but record %d is %s", start+i, shorten(r.ID), start+i, sent[i])
			}
			if r.Success && r.ID == "" {
				return mismatch("result %d reports a success without the record's id", start+i)
			}
		case r.Success:
			if r.ID == "" {
				return mismatch("result %d reports a success without a record id", start+i)
			}
			k := idKey(r.ID)
			if j, dup := seen[k]; dup {
				return mismatch("results %d and %d report the same record %s", start+j, start+i, shorten(r.ID))
			}
			seen[k] = i
		}
	}
	return nil
}

// newIDsOnce checks a create's successes across the answered chunks, as
// checkAnswer does within one: two chunks reporting the same new record both
// fail with an *AnswerMismatchError, their results cleared. Not an upsert's:
// two chunks may name the same external id, and then the same record (one
// request refuses a key given twice, as Apex's upsert does: "If the key is
// matched multiple times, then an error is generated"; requests apart match
// it each).
func newIDsOnce(op string, results []SaveResult, chunks []Chunk) {
	type at struct{ chunk, record int }
	first := map[string]at{}
	bad := map[int]error{}
	for ci, c := range chunks {
		if c.State != ChunkAnswered {
			continue
		}
		for i := c.Start; i < c.End; i++ {
			r := results[i]
			if !r.Success || r.ID == "" {
				continue
			}
			k := idKey(r.ID)
			prev, dup := first[k]
			if !dup {
				first[k] = at{ci, i}
				continue
			}
			err := &AnswerMismatchError{Operation: op,
				Reason: fmt.Sprintf("results %d and %d report the same record %s", prev.record, i, shorten(r.ID))}
			for _, x := range []int{prev.chunk, ci} {
				if bad[x] == nil {
					bad[x] = err
				}
			}
		}
	}
	for ci, err := range bad {
		c := &chunks[ci]
		c.State, c.Err = ChunkFailed, err
		clear(results[c.Start:c.End])
	}
}

// sameID reports whether two record ids name the same record: equal, or
// valid ids (15 or 18 letters and digits) whose case-sensitive first 15
// characters are equal (the 18-character form adds a case-insensitive
// checksum).
func sameID(a, b string) bool {
	if a == b {
		return true
	}
	return validID(a) && validID(b) && a[:15] == b[:15]
}

// idKey is the part of an id that names the record.
func idKey(id string) string {
	if validID(id) {
		return id[:15]
	}
	return id
}

func validID(s string) bool {
	if len(s) != 15 && len(s) != 18 {
		return false
	}
	for _, r := range s {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return true
}

// runChunks cuts n items into chunks of size and runs send on them with
// bounded parallelism, in input order of start. send reports whether every
// record of its chunk succeeded. A chunk that fails as a whole stops the
// sending of further chunks, and so does a record failure under AllOrNone;
// chunks in flight finish.
func (c *Client) runChunks(ctx context.Context, n, size int, opts CollectionOptions, write bool,
	send func(ctx context.Context, start, end int) (allOK bool, err error)) []Chunk {
	chunks := make([]Chunk, 0, (n+size-1)/size)
	for start := 0; start < n; start += size {
		chunks = append(chunks, Chunk{Start: start, End: min(start+size, n), State: ChunkNotSent, write: write})
	}
	workers := opts.Parallelism
	if workers <= 0 {
		workers = defaultCollectionParallelism
	}
	workers = min(workers, len(chunks))
	var (
		mu      sync.Mutex
		next    int
		stopped bool
		wg      sync.WaitGroup
	)
	take := func() (int, bool) {
		mu.Lock()
		defer mu.Unlock()
		if stopped || next == len(chunks) {
			return 0, false
		}
		if err := ctx.Err(); err != nil {
			for i := next; i < len(chunks); i++ {
				chunks[i].Err = err
			}
			stopped = true
			return 0, false
		}
		next++
		return next - 1, true
	}
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i, ok := take()
				if !ok {
					return
				}
				allOK, err := send(ctx, chunks[i].Start, chunks[i].End)
				mu.Lock()
				var notSent *notSentError
				if errors.As(err, &notSent) {
					chunks[i].Err = notSent.err
					stopped = true
				} else if err != nil {
					chunks[i].State, chunks[i].Err = ChunkFailed, err
					stopped = true
				} else {
					chunks[i].State = ChunkAnswered
					stopped = stopped || (opts.AllOrNone && !allOK)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return chunks
}

func collectionErr(op, sobject string, chunks []Chunk) error {
	for _, c := range chunks {
		if c.State != ChunkAnswered {
			return &CollectionError{Operation: op, SObject: sobject, Chunks: chunks}
		}
	}
	return nil
}

type recordMode int

const (
	recordCreate recordMode = iota // no Id: create and upsert
	recordUpdate                   // Id required
)

// chunkEncoder appends the request body of the records [start, end) to dst
// and returns it; ids, when not nil, receives each record's id at its index.
type chunkEncoder func(dst []byte, start, end int, ids []string) ([]byte, error)

// newChunkEncoder returns the encoder of records' chunks. Each record is
// marshalled once, to a JSON object, and copied into the body with the
// attributes map holding its type first ("Each object must contain an
// attributes map. The map must contain a value for type."), unless it holds
// one of its own. A create's empty Id is left out, as a create must not send
// one; an update's record must carry its Id.
func newChunkEncoder[T any](sobject string, records []T, mode recordMode, allOrNone bool) (chunkEncoder, error) {
	if sobject == "" {
		return nil, invalidRequest("the sObject type is empty: name it, such as Account or Invoice__c")
	}
	typ, err := json.Marshal(sobject)
	if err != nil {
		return nil, err
	}
	attrs := append(append([]byte(`{"attributes":{"type":`), typ...), "}"...)
	head := `{"allOrNone":false,"records":[`
	if allOrNone {
		head = `{"allOrNone":true,"records":[`
	}
	return func(dst []byte, start, end int, ids []string) ([]byte, error) {
		var scratch bytes.Buffer
		enc := json.NewEncoder(&scratch) // escapes as json.Marshal does
		dst = append(dst, head...)
		for i := start; i < end; i++ {
			scratch.Reset()
			if err := enc.Encode(records[i]); err != nil {
				return nil, invalidRequest("record %d: %v", i, err)
			}
			obj := bytes.TrimSuffix(scratch.Bytes(), []byte("\n"))
			if len(obj) < 2 || obj[0] != '{' {
				return nil, invalidRequest("record %d is not a JSON object (%T): use a struct or a map of field names", i, records[i])
			}
			if i > start {
				dst = append(dst, ',')
			}
			var (
				id  string
				err error
			)
			if dst, id, err = appendRecord(dst, obj, attrs, mode); err != nil {
				return nil, invalidRequest("record %d: %v", i, err)
			}
			if mode == recordUpdate && id == "" {
				return nil, invalidRequest("record %d has no Id: an update names each record by its Id", i)
			}
			if ids != nil {
				ids[i] = id
			}
		}
		return append(dst, "]}"...), nil
	}, nil
}

// appendRecord appends the record obj, a JSON object as encoding/json writes
// it (compact, valid), to dst with attrs (`{"attributes":…`) opening it unless
// it holds attributes itself, and without an empty Id in create mode. It
// returns the record's Id ("" when it has none, or null).
func appendRecord(dst, obj, attrs []byte, mode recordMode) (_ []byte, id string, err error) {
	hasAttrs, idStart, idEnd, idKey := false, -1, -1, ""
	for m := range members(obj) {
		key := m.key
		if bytes.IndexByte(key, '\\') >= 0 {
			var k string
			if json.Unmarshal(key, &k) != nil {
				return nil, "", errors.New("a field name is not a JSON string")
			}
			key = []byte(strconv.Quote(k))
		}
		name := key[1 : len(key)-1]
		switch {
		case string(name) == "attributes":
			hasAttrs = true
		case bytes.EqualFold(name, []byte("Id")):
			if idStart >= 0 {
				return nil, "", fmt.Errorf("fields %s and %s both name the Id: give it once", idKey, name)
			}
			idStart, idEnd, idKey = m.start, m.end, string(name)
			v := m.value
			if !bytes.Equal(v, []byte("null")) && json.Unmarshal(v, &id) != nil {
				return nil, "", errors.New("the Id is not a string")
			}
		}
	}
	keepID := idStart >= 0 && (id != "" || mode == recordUpdate)
	body := obj[1 : len(obj)-1] // the members
	if hasAttrs {
		dst = append(dst, '{')
	} else {
		dst = append(dst, attrs...)
	}
	switch {
	case idStart < 0 || keepID:
		if !hasAttrs && len(body) > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, body...)
	default: // the create's empty Id, left out with the comma that joins it to its neighbours
		before, after := obj[1:idStart], obj[idEnd:len(obj)-1]
		before = bytes.TrimSuffix(before, []byte(","))
		after = bytes.TrimPrefix(after, []byte(","))
		parts := 0
		for _, p := range [][]byte{before, after} {
			if len(p) == 0 {
				continue
			}
			if parts > 0 || !hasAttrs {
				dst = append(dst, ',')
			}
			dst = append(dst, p...)
			parts++
		}
	}
	return append(dst, '}'), id, nil
}

// member is one name/value pair of a JSON object: its key (quoted), its
// value, and its bounds [start, end) in the object.
type member struct {
	key, value []byte
	start, end int
}

// members yields the top-level members of the compact, valid JSON object
// obj. It stops at the first byte it does not expect rather than read out
// of bounds.
func members(obj []byte) func(yield func(member) bool) {
	return func(yield func(member) bool) {
		i := 1
		for i < len(obj)-1 && obj[i] == '"' {
			start := i
			i = skipString(obj, i)
			key := obj[start:i]
			if i >= len(obj) || obj[i] != ':' {
				return
			}
			v := i + 1
			i = skipValue(obj, v)
			if i > len(obj)-1 {
				return
			}
			if !yield(member{key: key, value: obj[v:i], start: start, end: i}) {
				return
			}
			if obj[i] == ',' {
				i++
			}
		}
	}
}

// skipString returns the index after the JSON string that starts at b[i].
func skipString(b []byte, i int) int {
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return len(b)
}

// skipValue returns the index after the compact JSON value that starts at b[i].
func skipValue(b []byte, i int) int {
	depth := 0
	for i < len(b) {
		switch b[i] {
		case '"':
			i = skipString(b, i)
			if depth == 0 {
				return i
			}
			continue
		case '{', '[':
			depth++
		case '}', ']':
			if depth == 0 {
				return i
			}
			depth--
			if depth == 0 {
				return i + 1
			}
		case ',':
			if depth == 0 {
				return i
			}
		}
		i++
	}
	return i
}
