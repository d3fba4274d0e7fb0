package store

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/store/dbsqlc"
)

// NewToken is a one-time link to store: only the SHA-256 of its token.
type NewToken struct {
	Purpose   string // billing.Token*
	Hash      []byte
	ExpiresAt time.Time
}

// AccountToken is a stored one-time link, as found by its token.
type AccountToken struct {
	ID         int64
	Purpose    string
	UserID     int64
	CustomerID int64
	// Email is the address the link was sent to.
	Email     string
	ExpiresAt time.Time
}

// Registration is what a registration writes besides the customer and its
// main user: the link its notice carries (if Token.Hash is set), and whether
// the customer must confirm the address before ordering.
type Registration struct {
	Token              NewToken
	ActivationRequired bool
}

// RegisterCustomer creates a customer with its main user (as CreateCustomer)
// and, in the same transaction, the one-time link of reg for the main user.
// It returns the link's ID.
func (s *Store) RegisterCustomer(ctx context.Context, in billing.CustomerCreate, passwordHash string, reg Registration) (billing.Customer, billing.User, int64, error) {
	var tokenID int64
	c, u, err := s.createCustomer(ctx, in, passwordHash, func(q *dbsqlc.Queries, c billing.Customer, u billing.User) error {
		if reg.ActivationRequired {
			if err := q.UserRequireActivation(ctx, u.ID); err != nil {
				return err
			}
		}
		if reg.Token.Hash == nil {
			return nil
		}
		var err error
		tokenID, err = insertToken(ctx, q, u.ID, u.Email, reg.Token)
		return err
	})
	return c, u, tokenID, err
}

// CreateAccountToken stores a new link for user userID, sent to email; the
// user's earlier unused links of its purpose stop working.
func (s *Store) CreateAccountToken(ctx context.Context, userID int64, email string, t NewToken) (int64, error) {
	var id int64
	err := s.inTx(ctx, func(q *dbsqlc.Queries) error {
		var err error
		id, err = insertToken(ctx, q, userID, email, t)
		return err
	})
	return id, dbError(err, "link", "")
}

func insertToken(ctx context.Context, q *dbsqlc.Queries, userID int64, email string, t NewToken) (int64, error) {
	if err := q.AccountTokenRetire(ctx, dbsqlc.AccountTokenRetireParams{UserID: userID, Purpose: t.Purpose}); err != nil {
		return 0, err
	}
	return q.AccountTokenInsert(ctx, dbsqlc.AccountTokenInsertParams{TokenHash: t.Hash, Purpose: t.Purpose,
		UserID: userID, Email: email, ExpiresAt: t.ExpiresAt})
}

// AccountToken returns the usable link of purpose whose token has hash. An
// unknown token (or one of a deleted customer) is not found; one used or
// expired is a conflict saying so.
func (s *Store) AccountToken(ctx context.Context, hash []byte, purpose string) (AccountToken, error) {
	r, err := s.q.AccountTokenGet(ctx, dbsqlc.AccountTokenGetParams{TokenHash: hash, Purpose: purpose})
	if err != nil {
		return AccountToken{}, tokenError(err)
	}
	return usableToken(r)
}

// tokenError says plainly that an unknown token is not a valid link.
func tokenError(err error) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return billing.Errorf(billing.ENOTFOUND, "this link is not valid: check that it was copied whole, or ask for a new one")
	}
	return dbError(err, "link", "")
}

func usableToken(r dbsqlc.AccountTokenGetRow) (AccountToken, error) {
	t := AccountToken{ID: r.ID, Purpose: r.Purpose, UserID: r.UserID, CustomerID: r.CustomerID, Email: r.Email, ExpiresAt: r.ExpiresAt}
	switch {
	case r.CustomerStatus != billing.CustomerActive:
		return t, billing.Errorf(billing.ENOTFOUND, "this link is not valid: its account was deleted")
	case r.UsedAt != nil:
		return t, billing.Errorf(billing.ECONFLICT, "this link was already used; each link works once")
	case !r.ExpiresAt.After(time.Now()):
		return t, billing.Errorf(billing.ECONFLICT, "this link expired at %s; ask for a new one", r.ExpiresAt.UTC().Format(time.RFC3339))
	}
	return t, nil
}

// SetPasswordWithToken uses a set-password link: the user's password
// becomes passwordHash, their other sessions end, and their email counts
// as confirmed. A link sent to an address the user no longer has is a
// conflict (whoever reads the old mailbox must not take the account over),
// and stays unused. Nothing changes if the link is not usable.
func (s *Store) SetPasswordWithToken(ctx context.Context, hash []byte, passwordHash string) (AccountToken, error) {
	var t AccountToken
	err := s.inTx(ctx, func(q *dbsqlc.Queries) error {
		var err error
		var userEmail string
		if t, userEmail, err = useTokenWithEmail(ctx, q, hash, billing.TokenSetPassword); err != nil {
			return err
		}
		if !strings.EqualFold(userEmail, t.Email) {
			return billing.Errorf(billing.ECONFLICT, "this link was sent to an address the account no longer has; ask your provider for a new one")
		}
		if err := q.UserSetPassword(ctx, dbsqlc.UserSetPasswordParams{ID: t.UserID, PasswordHash: passwordHash,
			VerifyEmail: true}); err != nil {
			return err
		}
		auditObject(ctx, "user", t.UserID, t.CustomerID)
		return revokeUserSessions(ctx, q, t.UserID, 0)
	})
	return t, tokenError(err)
}

// ActivateEmail uses an activation link: the user's email is confirmed, if
// it is still the address the link was sent to (else a conflict, and the
// link stays usable for nothing: it is not marked used).
func (s *Store) ActivateEmail(ctx context.Context, hash []byte) (AccountToken, error) {
	var t AccountToken
	err := s.inTx(ctx, func(q *dbsqlc.Queries) error {
		var err error
		var userEmail string
		if t, userEmail, err = useTokenWithEmail(ctx, q, hash, billing.TokenActivateEmail); err != nil {
			return err
		}
		if !strings.EqualFold(userEmail, t.Email) {
			return billing.Errorf(billing.ECONFLICT, "this link confirms an address the account no longer has; ask for a new link")
		}
		auditObject(ctx, "user", t.UserID, t.CustomerID)
		return q.UserVerifyEmail(ctx, t.UserID)
	})
	return t, tokenError(err)
}

// VerifyAccount uses an account verification link: the customer is verified
// (its verified_at is set, the first time only).
func (s *Store) VerifyAccount(ctx context.Context, hash []byte) (AccountToken, time.Time, error) {
	var t AccountToken
	var at time.Time
	err := s.inTx(ctx, func(q *dbsqlc.Queries) error {
		var err error
		if t, _, err = useTokenWithEmail(ctx, q, hash, billing.TokenVerifyAccount); err != nil {
			return err
		}
		auditObject(ctx, "customer", t.CustomerID, t.CustomerID)
		v, err := q.CustomerVerify(ctx, t.CustomerID)
		if v != nil {
			at = *v
		}
		return err
	})
	return t, at, tokenError(err)
}

func useTokenWithEmail(ctx context.Context, q *dbsqlc.Queries, hash []byte, purpose string) (AccountToken, string, error) {
	r, err := q.AccountTokenGetForUpdate(ctx, dbsqlc.AccountTokenGetForUpdateParams{TokenHash: hash, Purpose: purpose})
	if err != nil {
		return AccountToken{}, "", err
	}
	t, err := usableToken(dbsqlc.AccountTokenGetRow(r))
	if err != nil {
		return t, "", err
	}
	if err := q.AccountTokenUse(ctx, t.ID); err != nil {
		return t, "", err
	}
	return t, r.UserEmail, q.AccountTokenRetire(ctx, dbsqlc.AccountTokenRetireParams{UserID: t.UserID, Purpose: purpose})
}

// UserAwaitingActivation returns the main user with email whose address is
// still to be confirmed before their customer may order.
func (s *Store) UserAwaitingActivation(ctx context.Context, email string) (userID, customerID int64, err error) {
	r, err := s.q.UserAwaitingActivation(ctx, email)
	return r.ID, r.CustomerID, dbError(err, "user", email)
}

// ActivationPending reports whether customer id's main user has yet to
// confirm their address before the customer may order.
func (s *Store) ActivationPending(ctx context.Context, customerID int64) (bool, error) {
	ok, err := s.q.CustomerActivationPending(ctx, customerID)
	return ok, dbError(err, "customer", customerID)
}

// CustomerVerifiedAt returns when customer id confirmed its account
// verification link; nil if it has not.
func (s *Store) CustomerVerifiedAt(ctx context.Context, customerID int64) (*time.Time, error) {
	at, err := s.q.CustomerVerifiedAt(ctx, customerID)
	return at, dbError(err, "customer", customerID)
}

// CreateVerificationLink stores the account verification link of customer
// id for its main user, once per customer ever: under the customer's lock,
// it does nothing (created false) if the customer had one. It returns the
// link's ID, the user and the address.
func (s *Store) CreateVerificationLink(ctx context.Context, customerID int64, t NewToken) (tokenID, userID int64, email string, created bool, err error) {
	err = s.inTx(ctx, func(q *dbsqlc.Queries) error {
		u, err := q.CustomerMainUserForUpdate(ctx, customerID)
		if err != nil {
			return err
		}
		had, err := q.CustomerHasVerificationToken(ctx, customerID)
		if err != nil || had {
			return err
		}
		userID, email, created = u.ID, u.Email, true
		tokenID, err = insertToken(ctx, q, u.ID, u.Email, t)
		return err
	})
	return tokenID, userID, email, created, dbError(err, "customer", customerID)
}
