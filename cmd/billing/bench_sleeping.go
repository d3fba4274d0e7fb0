package main

// sleeping is the "sleeping" phase: 100,000 sleeping subscriptions; the
// worker's and the Temporal server's memory and the database's size.
func (b *bench) sleeping() ([]row, error) {
	return nil, nil // TODO(issue 15)
}
