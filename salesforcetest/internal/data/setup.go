package data

import (
	"maps"
	"strings"
)

// Setup: what a test or the org itself declares and reads outside any
// request. Each method takes the store's lock itself.

// SetUserID sets the user the org's writes are made as.
func (s *Store) SetUserID(id string) {
	s.mu.Lock()
	s.userID = id
	s.mu.Unlock()
}

// Declare adds a custom object, or custom fields to an existing object when
// obj names one.
func (s *Store) Declare(obj SObject) error {
	s.mu.Lock()
	_, exists := s.schema.object(obj.Name)
	s.mu.Unlock()
	if exists {
		return s.DefineFields(obj.Name, obj.Fields...)
	}
	return s.DefineObject(obj)
}

// DefineObject declares a custom object.
func (s *Store) DefineObject(obj SObject) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, err := s.schema.add(obj, false)
	return err
}

// DefineFields adds custom fields to an object; a refused field leaves the
// object as it was.
func (s *Store) DefineFields(object string, fields ...Field) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	obj, ok := s.schema.object(object)
	if !ok {
		return &SchemaError{Object: object, Reason: "no such object; declare it with DefineObject"}
	}
	// Validate on a copy so a refused field leaves the object as it was.
	trial := *obj
	trial.Fields = append([]Field(nil), obj.Fields...)
	trial.byName = map[string]*Field{}
	for i := range trial.Fields {
		trial.byName[strings.ToLower(trial.Fields[i].Name)] = &trial.Fields[i]
	}
	if err := s.schema.addFields(&trial, fields, false); err != nil {
		return err
	}
	*obj = trial
	return nil
}

// User returns the id of the User record named username, creating the
// record (first name empty, last name the part before @) for a user the org
// did not know.
func (s *Store) User(username string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, _ := s.schema.object("User")
	f, _ := u.Field("Username")
	if id, known := s.unique[uniqueSlot{"user", f.Name, uniqueValue(f, username)}]; known {
		return id
	}
	local, _, _ := strings.Cut(username, "@")
	return s.addUser(username, "", local)
}

// Snapshot returns a copy of a record's fields (deleted ones too, with
// IsDeleted true).
func (s *Store) Snapshot(object, id string) (map[string]any, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	so, ok := s.schema.object(object)
	id18, valid := NormalizeID(id)
	if !ok || !valid {
		return nil, false
	}
	r := s.records[id18]
	if r == nil || r.object != so {
		return nil, false
	}
	return maps.Clone(r.fields), true
}
