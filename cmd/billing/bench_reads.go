package main

// reads is the "reads" phase: API reads at a fixed request rate, p50 and p99.
func (b *bench) reads() ([]row, error) {
	return nil, nil // TODO(issue 15)
}
