package api

import "time"

// SetFirstLockout lengthens the wait after the free failed sign-ins of s,
// so that a test of the count can't be outwaited by a slow machine.
func SetFirstLockout(s *Server, d time.Duration) { s.firstLockout = d }
