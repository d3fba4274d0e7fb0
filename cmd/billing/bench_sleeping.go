package main

// sleeper is one sleeping subscription of the "sleeping" phase.
type sleeper struct{ subscriptionID, customerID int64 }

// sleeping is the "sleeping" phase: 100,000 sleeping subscriptions; the
// worker's and the Temporal server's memory and the database's size.
func (b *bench) sleeping() ([]row, error) {
	return nil, nil // TODO(issue 15)
}

// ensureSleeping makes b.f.sleeping subscriptions whose workflows sleep
// until a renewal far away, once, and returns them in b.sleepers.
func (b *bench) ensureSleeping() error {
	return nil // TODO(issue 15)
}
