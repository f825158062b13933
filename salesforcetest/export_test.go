package salesforcetest

// JobProcessed returns a channel that is closed when the org has finished
// processing the Bulk API 2.0 job id, or nil if it has no such job. Tests
// wait on it instead of polling the job's state. A job that never starts
// (still Open) never closes it.
func (o *Org) JobProcessed(id string) <-chan struct{} {
	for _, query := range []bool{false, true} {
		if j, ok := o.bulk.Get(id, query); ok {
			return j.Done()
		}
	}
	return nil
}
