package salesforcetest

// JobProcessed returns a channel that is closed when the org has finished
// processing the Bulk API 2.0 job id, or nil if it has no such job. Tests
// wait on it instead of polling the job's state. A job that never starts
// (still Open) never closes it.
func (o *Org) JobProcessed(id string) <-chan struct{} {
	o.bulk.mu.Lock()
	defer o.bulk.mu.Unlock()
	if j := o.bulk.jobs[id]; j != nil {
		return j.done
	}
	return nil
}
