package main

// charge is the "charge" phase: a charge for a customer with a long ledger
// against one with a short ledger.
func (b *bench) charge() ([]row, error) {
	return nil, nil // TODO(issue 15)
}
