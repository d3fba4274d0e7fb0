package store

import (
	"context"
	"slices"
	"time"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/store/dbsqlc"
)

// StaffCredentials returns the active staff member with login and their password hash.
func (s *Store) StaffCredentials(ctx context.Context, login string) (billing.Staff, string, error) {
	r, err := s.q.StaffCredentials(ctx, login)
	st := billing.Staff{ID: r.ID, Login: r.Login, Email: r.Email, Name: r.Name, Role: r.Role,
		Permissions: r.Permissions, Status: r.Status, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
	return st, r.PasswordHash, dbError(err, "staff member", login)
}

// UserCredentials returns the user with login, if their customer is active, and the password hash.
func (s *Store) UserCredentials(ctx context.Context, login string) (billing.User, string, error) {
	r, err := s.q.UserCredentials(ctx, login)
	u := billing.User{ID: r.ID, CustomerID: r.CustomerID, Login: r.Login, Email: r.Email, Phone: r.Phone,
		FirstName: r.FirstName, LastName: r.LastName, Language: r.Language, EmailVerified: r.EmailVerified,
		Main: r.Main, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
	return u, r.PasswordHash, dbError(err, "user", login)
}

// Session is a signed-in session to create.
type Session struct {
	Kind            string
	StaffID         int64
	UserID          int64
	CustomerID      int64
	ParentSessionID int64
	IP              string
	ExpiresAt       time.Time
}

// CreateSession stores a session under the SHA-256 of its token.
func (s *Store) CreateSession(ctx context.Context, sess Session, tokenHash []byte) (int64, error) {
	var id int64
	err := s.inTx(ctx, func(q *dbsqlc.Queries) error {
		var err error
		id, err = q.SessionInsert(ctx, dbsqlc.SessionInsertParams{TokenHash: tokenHash, Kind: sess.Kind,
			StaffID: sess.StaffID, UserID: sess.UserID, CustomerID: sess.CustomerID,
			ParentSessionID: sess.ParentSessionID, IP: sess.IP, ExpiresAt: sess.ExpiresAt})
		return err
	})
	return id, dbError(err, "session", "")
}

// PrincipalBySession returns who holds the live session with tokenHash. An
// expired or revoked session, a disabled staff member or a deleted customer
// is not found; so is an impersonation whose parent session has ended or
// whose staff member no longer holds the impersonate permission.
func (s *Store) PrincipalBySession(ctx context.Context, tokenHash []byte) (billing.Principal, error) {
	r, err := s.q.SessionPrincipal(ctx, tokenHash)
	if err != nil {
		return billing.Principal{}, dbError(err, "session", "")
	}
	p := billing.Principal{SessionID: r.ID, Kind: r.Kind, ExpiresAt: &r.ExpiresAt}
	if r.StaffID != nil {
		p.StaffID = *r.StaffID
	}
	if r.UserID != nil {
		p.UserID = *r.UserID
	}
	if r.CustomerID != nil {
		p.CustomerID = *r.CustomerID
	}
	if p.Kind == billing.ActorStaff && r.Role != nil {
		p.Role, p.Permissions, p.DepartmentIDs = *r.Role, r.Permissions, r.DepartmentIds
	}
	return p, nil
}

// RevokeSession ends a session now, and the impersonations started from it.
func (s *Store) RevokeSession(ctx context.Context, id int64) error {
	return dbError(s.inTx(ctx, func(q *dbsqlc.Queries) error {
		return q.SessionRevoke(ctx, id)
	}), "session", id)
}

// ParentSession returns the id of the session an impersonation session was started from.
func (s *Store) ParentSession(ctx context.Context, id int64) (int64, error) {
	parent, err := s.q.SessionParent(ctx, id)
	if err != nil || parent == nil {
		return 0, dbError(err, "session", id)
	}
	return *parent, nil
}

// LoginFailures is what is known of the failed sign-ins under one key
// (a login or an address) within the last hour.
type LoginFailures struct {
	Key      string
	Failures int
	Last     time.Time
}

// CountLoginAttempt is the atomic first step of a sign-in: under a lock on
// the failure rows of keys, it reads them and, unless admit refuses, counts
// the attempt as a failure under every key before the password is checked.
// N parallel attempts are therefore counted as N, and each sees the count of
// those before it. A sign-in that then succeeds calls LoginSucceeded.
// It returns the failures as they were before this attempt, in keys' order.
func (s *Store) CountLoginAttempt(ctx context.Context, keys []string, admit func([]LoginFailures) bool) ([]LoginFailures, bool, error) {
	var out []LoginFailures
	admitted := false
	err := s.inTx(ctx, func(q *dbsqlc.Queries) error {
		sorted := slices.Sorted(slices.Values(keys)) // one lock order for every caller: no deadlocks
		if err := q.LoginFailureInit(ctx, sorted); err != nil {
			return err
		}
		got, err := q.LoginFailureListForUpdate(ctx, sorted)
		if err != nil {
			return err
		}
		out = make([]LoginFailures, len(keys))
		for i, k := range keys {
			out[i] = LoginFailures{Key: k}
			for _, g := range got {
				if g.Key == k {
					out[i] = LoginFailures{Key: g.Key, Failures: g.Failures, Last: g.LastFailureAt}
				}
			}
		}
		if admitted = admit(out); !admitted {
			return nil
		}
		if err := q.LoginFailureCount(ctx, sorted); err != nil {
			return err
		}
		return q.LoginFailurePrune(ctx)
	})
	return out, admitted, err
}

// LoginSucceeded takes back the failure CountLoginAttempt counted: the
// login's failures are forgotten, the address's count goes down by one.
func (s *Store) LoginSucceeded(ctx context.Context, loginKey, ipKey string) error {
	return s.inTx(ctx, func(q *dbsqlc.Queries) error {
		if err := q.LoginFailureDelete(ctx, loginKey); err != nil {
			return err
		}
		return q.LoginFailureDecrement(ctx, ipKey)
	})
}

// revokeStaffSessions ends every live session of staff member id but the
// session keep, and the impersonations started from them.
func revokeStaffSessions(ctx context.Context, q *dbsqlc.Queries, id, keep int64) error {
	ended, err := q.SessionRevokeOfStaff(ctx, dbsqlc.SessionRevokeOfStaffParams{StaffID: id, Keep: keep})
	if err != nil {
		return err
	}
	return q.SessionRevokeChildren(ctx, ended)
}

// revokeUserSessions ends every live session of user id but the session
// keep, and the impersonations started from them.
func revokeUserSessions(ctx context.Context, q *dbsqlc.Queries, id, keep int64) error {
	ended, err := q.SessionRevokeOfUser(ctx, dbsqlc.SessionRevokeOfUserParams{UserID: id, Keep: keep})
	if err != nil {
		return err
	}
	return q.SessionRevokeChildren(ctx, ended)
}
