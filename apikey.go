package billing

import "time"

// APIKey is a staff integration's credential. The key itself is shown once.
type APIKey struct {
	ID         int64      `json:"id"`
	StaffID    int64      `json:"staff_id"`
	Name       string     `json:"name"`
	Prefix     string     `json:"prefix"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
	RevokedAt  *time.Time `json:"revoked_at"`
}
