package billing

// StaffNotificationSetting says whether a staff member receives one staff
// event's notices (seed 000 "Email notifications for staff members"): every
// one is on until the member, or staff managing them, turns it off.
type StaffNotificationSetting struct {
	Event   string `json:"event"`
	Title   string `json:"title"`
	Enabled bool   `json:"enabled"`
}

// StaffNotificationSettingsInput changes some of a staff member's settings:
// event name to on or off; the events left out keep theirs.
type StaffNotificationSettingsInput struct {
	Events map[string]bool `json:"events"`
}
