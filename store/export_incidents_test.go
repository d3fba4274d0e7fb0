package store

import "context"

// InsertTicket inserts a bare ticket row of the customer in the department,
// in s's transaction if s is bound to one: what the ticket store does before
// it calls UseIncident (tickets are built elsewhere).
func (s *Store) InsertTicket(ctx context.Context, customerID, departmentID int64, replyToken string) (int64, error) {
	var id int64
	err := s.db.QueryRow(ctx, `INSERT INTO tickets (customer_id, department_id, subject, reply_token)
		VALUES ($1, $2, 'Help', $3) RETURNING id`, customerID, departmentID, replyToken).Scan(&id)
	return id, err
}
