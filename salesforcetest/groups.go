package salesforcetest

// An Org's methods beyond starting, connecting and stopping come in three
// groups, each a small value that reaches the org: Setup (who may connect
// and what the org holds), Data (records, as a test's setup and checks read
// and write them outside the API) and Faults (what goes wrong).

// Setup changes who may connect and what the org holds: Mutual
// Authentication Certificates, the app's JWT certificate, pre-authorized
// users, the session lifetime, custom routes, the schema and seed data.
type Setup struct{ o *Org }

// Setup returns the org's setup methods, e.g. org.Setup().PreAuthorize(user, true).
func (o *Org) Setup() Setup { return Setup{o} }

// Data creates and reads records directly, validated as the REST API
// validates them, and counts Bulk API jobs.
type Data struct{ o *Org }

// Data returns the org's data methods, e.g. org.Data().Insert(t, "Account", fields).
func (o *Org) Data() Data { return Data{o} }

// Faults makes the org fail as Salesforce can: sessions that end, token
// requests that fail or answer slowly, an API allocation nearly used up.
type Faults struct{ o *Org }

// Faults returns the org's fault methods, e.g. org.Faults().ExpireAllSessions().
func (o *Org) Faults() Faults { return Faults{o} }
