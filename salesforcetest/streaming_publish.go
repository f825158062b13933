package salesforcetest

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/sfmtls/sfmtls/salesforcetest/internal/data"
	"github.com/sfmtls/sfmtls/salesforcetest/internal/soqlengine"
)

// What the org publishes on its Streaming API channels: change events of its
// own records (Change Data Capture Developer Guide, "Change Event Message
// Structure"), platform events published through REST, PushTopic events of
// the topics created through REST, and generic events pushed to a
// StreamingChannel.

// streamTimeFormat is the createdDate of PushTopic and generic events (Z
// suffix from API 37.0, "Message Durability").
const streamTimeFormat = "2006-01-02T15:04:05.000Z"

// DefinePlatformEvent defines a platform event (its name ends in __e) with
// its custom fields: events published to it through REST (POST
// /services/data/vXX.X/sobjects/<Name>) are delivered on /event/<Name>.
func (su Setup) DefinePlatformEvent(name string, fields ...Field) error {
	if !strings.HasSuffix(name, "__e") || len(name) <= 3 {
		return &SchemaError{Object: name, Reason: "a platform event's name ends in __e"}
	}
	for _, f := range fields {
		if !strings.HasSuffix(f.Name, "__c") {
			return &SchemaError{Object: name, Field: f.Name, Reason: "a platform event's custom field ends in __c"}
		}
	}
	s := su.o.stream()
	s.mu.Lock()
	defer s.mu.Unlock()
	pe := &platformEvent{Name: name, Fields: fields, byName: map[string]*Field{}}
	for i := range pe.Fields {
		pe.byName[strings.ToLower(pe.Fields[i].Name)] = &pe.Fields[i]
	}
	s.events[strings.ToLower(name)] = pe
	return nil
}

// platformEvent is a platform event's definition.
type platformEvent struct {
	Name   string
	Fields []Field
	byName map[string]*Field // lower-case name → field
}

// DefineStreamingChannel creates a generic streaming channel, /u/<name>, as
// creating a StreamingChannel record does. PushGenericEvent, or REST's
// POST …/sobjects/StreamingChannel/<id>/push, sends events on it.
func (su Setup) DefineStreamingChannel(channel string) (id string, err error) {
	if !strings.HasPrefix(channel, "/u/") || len(channel) <= 3 {
		return "", &SchemaError{Object: "StreamingChannel", Field: "Name", Reason: "a generic channel's name starts with /u/"}
	}
	s := su.o.stream()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.generic[strings.ToLower(channel)] = channel
	return data.NewID("0M6", int64(len(s.generic))), nil
}

// PushGenericEvent sends payload to the subscribers of a generic channel.
func (da Data) PushGenericEvent(channel, payload string) error {
	s := da.o.stream()
	s.mu.Lock()
	name, ok := s.generic[strings.ToLower(channel)]
	s.mu.Unlock()
	if !ok {
		return &SchemaError{Object: "StreamingChannel", Field: "Name", Reason: "no generic channel " + channel}
	}
	s.bus.Publish(name, pushTopicRetention, "", func(id int64, at time.Time) json.RawMessage {
		b, _ := json.Marshal(map[string]any{"event": map[string]any{"createdDate": at.UTC().Format(streamTimeFormat), "replayId": id},
			"payload": payload})
		return b
	})
	return nil
}

// routeStreamingSObjects serves the sObject resources the Streaming API
// adds: PushTopic and StreamingChannel records, and platform events. It
// reports whether it answered.
func (o *Org) routeStreamingSObjects(w http.ResponseWriter, r *http.Request, v string, segs []string) bool {
	if len(segs) == 0 || r.Method != http.MethodPost {
		return false
	}
	s := o.stream()
	switch {
	case strings.EqualFold(segs[0], "PushTopic") && len(segs) == 1:
		o.handlePushTopicCreate(w, r, s)
	case strings.EqualFold(segs[0], "StreamingChannel") && len(segs) == 1:
		fields, err := readFields(r)
		if err != nil {
			writeAPIError(w, err)
			return true
		}
		name, _ := fields["Name"].(string)
		id, derr := o.Setup().DefineStreamingChannel(name)
		if derr != nil {
			writeRESTError(w, http.StatusBadRequest, "FIELD_INTEGRITY_EXCEPTION", derr.Error(), "Name")
			return true
		}
		s.mu.Lock()
		s.generic["id:"+id] = name
		s.mu.Unlock()
		writeJSON(w, http.StatusCreated, map[string]any{"id": id, "success": true, "errors": []any{}})
	case strings.EqualFold(segs[0], "StreamingChannel") && len(segs) == 3 && segs[2] == "push":
		id, _ := data.NormalizeID(segs[1])
		s.mu.Lock()
		name, ok := s.generic["id:"+id]
		s.mu.Unlock()
		if !ok {
			writeAPIError(w, notFound())
			return true
		}
		var body struct {
			PushEvents []struct {
				Payload string `json:"payload"`
			} `json:"pushEvents"`
		}
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody)).Decode(&body); err != nil {
			writeRESTError(w, http.StatusBadRequest, "JSON_PARSER_ERROR", "the body must be {\"pushEvents\":[…]}")
			return true
		}
		for _, e := range body.PushEvents {
			_ = o.Data().PushGenericEvent(name, e.Payload)
		}
		writeJSON(w, http.StatusOK, map[string]any{"fanoutCount": -1, "userOnlineStatus": map[string]any{}})
	case strings.HasSuffix(strings.ToLower(segs[0]), "__e") && len(segs) == 1:
		s.mu.Lock()
		pe, ok := s.events[strings.ToLower(segs[0])]
		s.mu.Unlock()
		if !ok {
			writeAPIError(w, notFound())
			return true
		}
		o.handlePublish(w, r, s, pe)
	default:
		return false
	}
	return true
}

var platformEventSeq atomic.Int64

// handlePublish publishes a platform event (Platform Events Developer
// Guide, "Publish Event Messages Using Salesforce APIs"): 201 with the
// event's id once it is on the bus.
func (o *Org) handlePublish(w http.ResponseWriter, r *http.Request, s *streaming, pe *platformEvent) {
	fields, err := readFields(r)
	if err != nil {
		writeAPIError(w, err)
		return
	}
	payload := map[string]any{}
	for k, val := range fields {
		f, ok := pe.byName[strings.ToLower(k)]
		if !ok {
			writeRESTError(w, http.StatusBadRequest, "INVALID_FIELD", "No such column '"+k+"' on sobject of type "+pe.Name)
			return
		}
		payload[f.Name] = val
	}
	for _, f := range pe.Fields {
		if f.Required && payload[f.Name] == nil {
			writeRESTError(w, http.StatusBadRequest, "REQUIRED_FIELD_MISSING", "Required fields are missing: ["+f.Name+"]", f.Name)
			return
		}
	}
	user := o.userID(o.Username)
	s.bus.Publish("/event/"+pe.Name, highVolumeRetention, "", func(id int64, at time.Time) json.RawMessage {
		payload["CreatedDate"] = at.UTC().Format(streamTimeFormat)
		payload["CreatedById"] = user
		b, _ := json.Marshal(map[string]any{"schema": "fakeSchema" + pe.Name, "payload": payload,
			"event": map[string]any{"replayId": id}})
		return b
	})
	writeJSON(w, http.StatusCreated, map[string]any{"id": data.NewID("e00", platformEventSeq.Add(1)), "success": true, "errors": []any{}})
}

// pushTopic is a PushTopic record (Streaming API Developer Guide,
// "PushTopic"): a SOQL query whose matching changes are notified.
type pushTopic struct {
	ID, Name, Query, Object, NotifyForFields string
	query                                    *soqlengine.Query
	create, update, delete, undelete         bool
}

func (o *Org) handlePushTopicCreate(w http.ResponseWriter, r *http.Request, s *streaming) {
	fields, err := readFields(r)
	if err != nil {
		writeAPIError(w, err)
		return
	}
	str := func(k string) string { v, _ := fields[k].(string); return v }
	flag := func(k string) bool {
		v, ok := fields[k].(bool)
		return !ok || v // the NotifyForOperation… fields default to true
	}
	t := &pushTopic{Name: str("Name"), Query: str("Query"), NotifyForFields: str("NotifyForFields"),
		create: flag("NotifyForOperationCreate"), update: flag("NotifyForOperationUpdate"),
		delete: flag("NotifyForOperationDelete"), undelete: flag("NotifyForOperationUndelete")}
	if t.Name == "" || len(t.Name) > 25 {
		writeRESTError(w, http.StatusBadRequest, "REQUIRED_FIELD_MISSING", "Required fields are missing: [Name]", "Name")
		return
	}
	if t.NotifyForFields == "" {
		t.NotifyForFields = "Referenced"
	}
	q, qerr := soqlengine.Parse(t.Query)
	if qerr != nil {
		writeRESTError(w, http.StatusBadRequest, "INVALID_FIELD", "Query: "+qerr.Error(), "Query")
		return
	}
	obj, ok := o.object(q.Object())
	if !ok {
		writeRESTError(w, http.StatusBadRequest, "INVALID_FIELD", "Query: unknown object "+q.Object(), "Query")
		return
	}
	t.query, t.Object = q, obj
	s.mu.Lock()
	if _, dup := s.topics[strings.ToLower(t.Name)]; dup {
		s.mu.Unlock()
		writeRESTError(w, http.StatusBadRequest, "DUPLICATE_VALUE", "duplicate value found: Name", "Name")
		return
	}
	t.ID = data.NewID("0IF", int64(len(s.topics)+1))
	s.topics[strings.ToLower(t.Name)] = t
	s.mu.Unlock()
	o.watchChanges(s)
	writeJSON(w, http.StatusCreated, map[string]any{"id": t.ID, "success": true, "errors": []any{}})
}

// EnableChangeEvents selects objects for Change Data Capture, as Setup's
// "Change Data Capture" page does (Change Data Capture Developer Guide,
// "Select Objects for Change Notifications in the User Interface"): from
// then on their committed changes, through any API, are published on
// /data/<Object>ChangeEvent (/data/<Name>__ChangeEvent for a custom object)
// and /data/ChangeEvents, retained 72 hours. Changes committed before are
// not published, as in Salesforce.
func (su Setup) EnableChangeEvents(objects ...string) error {
	s := su.o.stream()
	for _, name := range objects {
		canonical, ok := su.o.object(name)
		if !ok {
			return &SchemaError{Object: name, Reason: "no such object to select for Change Data Capture"}
		}
		s.mu.Lock()
		s.cdc[canonical] = true
		s.mu.Unlock()
	}
	su.o.watchChanges(s)
	return nil
}

// changeFeedBuffer bounds the changes waiting for the streaming side; past
// it a GAP_OVERFLOW event stands for the ones lost, as in Salesforce.
const changeFeedBuffer = 1 << 16

// watchChanges subscribes to the data layer's change feed, once: change
// events and PushTopics are made from it.
func (o *Org) watchChanges(s *streaming) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.feed != nil {
		return
	}
	s.feed = o.data.Subscribe(changeFeedBuffer, func(c data.Change) {
		if c.Type == data.ChangeGapOverflow || len(c.RecordIDs) == 0 {
			o.streamGap(c.Lost)
			return
		}
		o.streamChange(recordChange{Object: c.Object, ID: c.RecordIDs[0], Type: string(c.Type), Record: c.Fields,
			Changed: c.ChangedFields, Txn: c.TransactionKey, Seq: c.SequenceNumber})
	})
}

// streamGap publishes a GAP_OVERFLOW change event on /data/ChangeEvents for
// changes the feed lost.
func (o *Org) streamGap(lost int) {
	o.stream().bus.Publish(changeStream, highVolumeRetention, "", func(id int64, at time.Time) json.RawMessage {
		b, _ := json.Marshal(map[string]any{"payload": map[string]any{"ChangeEventHeader": map[string]any{
			"changeType": "GAP_OVERFLOW", "commitTimestamp": at.UnixMilli(), "recordIds": []string{}, "lost": lost}},
			"event": map[string]any{"replayId": id}})
		return b
	})
}

// recordChange is one committed write of a record, as the data layer's
// change feed reports it.
type recordChange struct {
	Object string // canonical name
	ID     string
	Type   string         // CREATE, UPDATE, DELETE, UNDELETE
	Record map[string]any // the record's fields after the write (before it, for DELETE)
	// Changed are the fields an UPDATE set (canonical names).
	Changed []string
	// Txn and Seq identify the transaction and the change's place in it.
	Txn string
	Seq int
}

// streamChange publishes c as a change event on /data/ChangeEvents (and so
// on /data/<Object>ChangeEvent) and notifies the PushTopics it matches.
func (o *Org) streamChange(c recordChange) {
	s := o.stream()
	s.mu.Lock()
	selected := s.cdc[c.Object]
	s.mu.Unlock()
	if selected {
		o.publishChangeEvent(s, c)
	}
	o.notifyPushTopics(s, c)
}

func (o *Org) publishChangeEvent(s *streaming, c recordChange) {
	user := o.userID(o.Username)
	s.bus.Publish(changeStream, highVolumeRetention, c.Object, func(id int64, at time.Time) json.RawMessage {
		header := map[string]any{
			"entityName": c.Object, "recordIds": []string{c.ID}, "changeType": c.Type, "changeOrigin": "com/salesforce/api/rest/" + APIVersion,
			"transactionKey": c.Txn, "sequenceNumber": c.Seq, "commitTimestamp": at.UnixMilli(), "commitNumber": id,
			"commitUser": user, "changedFields": []string{}, "diffFields": []string{}, "nulledFields": []string{},
		}
		payload := map[string]any{}
		switch c.Type {
		case "CREATE", "UNDELETE":
			for k, v := range c.Record {
				if v != nil && k != "Id" && k != "IsDeleted" && k != "SystemModstamp" {
					payload[k] = v
				}
			}
		case "UPDATE":
			var changed, nulled []string
			for _, k := range c.Changed {
				changed = append(changed, k)
				if c.Record[k] == nil {
					nulled = append(nulled, k)
				} else {
					payload[k] = c.Record[k]
				}
			}
			if v, ok := c.Record["LastModifiedDate"]; ok {
				payload["LastModifiedDate"] = v
				if !slices.Contains(changed, "LastModifiedDate") {
					changed = append(changed, "LastModifiedDate")
				}
			}
			header["changedFields"], header["nulledFields"] = changed, nonNil(nulled)
		}
		payload["ChangeEventHeader"] = header
		b, _ := json.Marshal(map[string]any{"schema": "fakeSchema" + c.Object, "payload": payload, "event": map[string]any{"replayId": id}})
		return b
	})
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// notifyPushTopics publishes c on every PushTopic whose query it matches,
// for the operations and fields the topic notifies for ("PushTopic Queries"
// and "Event Notification Rules").
func (o *Org) notifyPushTopics(s *streaming, c recordChange) {
	s.mu.Lock()
	var topics []*pushTopic
	for _, t := range s.topics {
		if strings.EqualFold(t.Object, c.Object) {
			topics = append(topics, t)
		}
	}
	s.mu.Unlock()
	for _, t := range topics {
		typ := ""
		switch {
		case c.Type == "CREATE" && t.create:
			typ = "created"
		case c.Type == "UPDATE" && t.update:
			typ = "updated"
		case c.Type == "DELETE" && t.delete:
			typ = "deleted"
		case c.Type == "UNDELETE" && t.undelete:
			typ = "undeleted"
		default:
			continue
		}
		sobject, ok := o.pushTopicMatch(t, c.Record)
		if !ok || (c.Type == "UPDATE" && !t.notifiesFor(c.Changed, sobject)) {
			continue
		}
		s.bus.Publish("/topic/"+t.Name, pushTopicRetention, "", func(id int64, at time.Time) json.RawMessage {
			b, _ := json.Marshal(map[string]any{"event": map[string]any{"createdDate": at.UTC().Format(streamTimeFormat),
				"replayId": id, "type": typ}, "sobject": sobject})
			return b
		})
	}
}

// notifiesFor applies NotifyForFields to an update's changed fields.
func (t *pushTopic) notifiesFor(changed []string, sobject map[string]any) bool {
	inSelect := func(f string) bool { _, ok := sobject[f]; return ok }
	inWhere := func(f string) bool {
		_, where, ok := strings.Cut(strings.ToLower(t.Query), " where ")
		return ok && strings.Contains(where, strings.ToLower(f))
	}
	for _, f := range changed {
		switch t.NotifyForFields {
		case "All":
			return true
		case "Select":
			if inSelect(f) {
				return true
			}
		case "Where":
			if inWhere(f) {
				return true
			}
		default: // Referenced
			if inSelect(f) || inWhere(f) {
				return true
			}
		}
	}
	return false
}

// pushTopicMatch evaluates the topic's query against one record, returning
// its selected fields when it matches.
func (o *Org) pushTopicMatch(t *pushTopic, rec map[string]any) (map[string]any, bool) {
	row := map[string]any{}
	for k, v := range rec {
		row[k] = v
	}
	row["IsDeleted"] = false
	var res *soqlengine.Result
	var err error
	o.data.Read(func(rd *data.Reader) {
		res, err = soqlengine.Execute(t.query, soqlSchema{rd}, oneRecord{object: t.Object, rec: row},
			soqlengine.Options{Now: rd.Now(), APIVersion: APIVersion})
	})
	if err != nil || len(res.Records) != 1 {
		return nil, false
	}
	out := map[string]any{"Id": rec["Id"]}
	for _, f := range res.Records[0].Fields {
		if _, isRecord := f.Value.(*soqlengine.Record); !isRecord {
			out[f.Name] = f.Value
		}
	}
	return out, true
}

// oneRecord shows a single record to the SOQL evaluator.
type oneRecord struct {
	object string
	rec    map[string]any
}

func (d oneRecord) Records(object string, _ bool) []map[string]any {
	if strings.EqualFold(object, d.object) {
		return []map[string]any{d.rec}
	}
	return nil
}

func (d oneRecord) Get(object, id string) (map[string]any, bool) {
	if strings.EqualFold(object, d.object) && d.rec["Id"] == id {
		return d.rec, true
	}
	return nil, false
}
