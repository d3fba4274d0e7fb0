package store_test

import (
	"crypto/rand"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/internal/dbtest"
	"github.com/tempobill/billing/store"
)

// TestDepartmentDeletedMeanwhile: a ticket, a task or a membership written
// into a department that is deleted meanwhile (it was there when read, and
// gone when the row's foreign key is checked) is refused as an unknown
// department (422 naming the field), not an internal error. The order is
// forced: a transaction holds the department's row as DeleteDepartment does
// until all three wait for it, then deletes it.
func TestDepartmentDeletedMeanwhile(t *testing.T) {
	t.Parallel()
	pool := dbtest.OwnPool(t)
	b := bundle{ctx: t.Context(), store: store.New(pool)}
	c := b.newCustomer(t)
	d := b.newDepartment(t)
	login := "s" + rand.Text()[:10]
	st, err := b.store.CreateStaff(b.ctx, billing.StaffCreate{Login: login, Email: login + "@staff.example", Role: billing.RoleAdmin,
		Permissions: []string{}}, "no-password")
	require.NoError(t, err)
	admin := billing.Principal{Kind: billing.ActorStaff, StaffID: st.ID, Role: billing.RoleAdmin}

	hold, err := pool.Begin(b.ctx)
	require.NoError(t, err)
	defer func() { _ = hold.Rollback(b.ctx) }()
	_, err = hold.Exec(b.ctx, `SELECT 1 FROM departments WHERE id = $1 FOR UPDATE`, d.ID)
	require.NoError(t, err)

	type result struct {
		field string
		err   error
	}
	errs := make(chan result, 3)
	go func() {
		_, err := b.store.OpenTicket(b.ctx, store.NewTicket{CustomerID: c.ID, DepartmentID: d.ID, Subject: "S", Body: "B",
			Author: billing.TicketAuthor{StaffID: st.ID}})
		errs <- result{"department_id", err}
	}()
	go func() {
		_, err := b.store.CreateTask(b.ctx, admin, billing.Task{DepartmentID: d.ID, Title: "T", Status: billing.TaskOpen, CreatedByID: st.ID})
		errs <- result{"department_id", err}
	}()
	go func() {
		errs <- result{"department_ids", b.store.SetStaffDepartments(b.ctx, st.ID, []int64{d.ID})}
	}()
	require.Eventually(t, func() bool {
		var w int
		require.NoError(t, pool.QueryRow(b.ctx, `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&w))
		return w == 3
	}, 10*time.Second, 10*time.Millisecond, "the three writes wait for the department's row")
	_, err = hold.Exec(b.ctx, `DELETE FROM departments WHERE id = $1`, d.ID)
	require.NoError(t, err)
	require.NoError(t, hold.Commit(b.ctx))

	for range 3 {
		got := <-errs
		field, err := got.field, got.err
		require.Error(t, err)
		require.Equal(t, billing.EINVALID, billing.ErrorCode(err), "%v", err)
		var be *billing.Error
		require.ErrorAs(t, err, &be)
		require.Contains(t, be.Fields, field, "%v", err)
	}
}
