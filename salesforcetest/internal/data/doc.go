// Package data is the fake org's backend, as fake-gcs-server keeps its
// storage behind a backend: the schema (objects, fields and the one list of
// field types the SOQL engine shares), the record store with its unique and
// external id indexes, validation as Salesforce validates writes, record ids,
// all-or-none transactions with savepoints, and the change feed of committed
// writes. It knows nothing of HTTP.
//
// Callers reach it through three doors: Store.Read, a consistent view under
// the store's lock; Store.Transaction, the one way records change; and the
// setup methods (Declare, DefineObject, DefineFields, User, Snapshot,
// SetUserID), each taking the lock itself. Store.Subscribe registers for the
// change feed.
package data
