package api_test

import (
	"crypto/rand"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/api"
	"github.com/tempobill/billing/password"
	"github.com/tempobill/billing/store"
	"github.com/tempobill/billing/worker"
)

// behindProxy is a bundle whose server trusts the loopback address as a
// reverse proxy, so that each test can sign in from an address of its own
// (X-Forwarded-For) and run in parallel without sharing a slow-down.
func behindProxy(t *testing.T) *bundle {
	t.Helper()
	b := setup(t)
	_, loopback, err := net.ParseCIDR("127.0.0.0/8")
	require.NoError(t, err)
	s := api.New(b.store, temporalClient, slog.New(slog.DiscardHandler), api.Options{
		StepNames: worker.StepNames(worker.Steps()), TrustedProxies: []*net.IPNet{loopback}})
	b.srv = httptest.NewServer(s)
	t.Cleanup(b.srv.Close)
	b.api = s
	return b
}

// testAddress returns an address of the benchmarking range no other test uses.
func testAddress() string {
	var n [3]byte
	_, _ = rand.Read(n[:])
	return fmt.Sprintf("198.%d.%d.%d", 18+n[0]%2, n[1], n[2])
}

// signInFrom sends one sign-in from addr (through the trusted proxy).
func (b *bundle) signInFrom(addr, path, login, pw string) (int, map[string]any) {
	b.t.Helper()
	return b.request("", "POST", path, mustJSON(map[string]string{"login": login, "password": pw}),
		map[string]string{"X-Forwarded-For": addr})
}

func (b *bundle) failures(key string) int {
	b.t.Helper()
	var n int
	err := b.store.Pool().QueryRow(b.t.Context(), `SELECT coalesce(max(failures), 0) FROM login_failures WHERE key = $1`, key).Scan(&n)
	require.NoError(b.t, err)
	return n
}

// TestSignInParallelGuesses: 30 wrong passwords sent at once for one login
// are counted as 30 attempts: five are checked (401), the rest wait (429).
func TestSignInParallelGuesses(t *testing.T) {
	t.Parallel()
	b := behindProxy(t)
	// A loaded machine may spread the 30 requests over more than the first
	// wait (1 s): then a sixth guess would rightly be checked. An hour can't
	// pass during the test.
	api.SetFirstLockout(b.api, time.Hour)
	_, login := b.newCustomer()
	statuses := make([]int, 30)
	var wg sync.WaitGroup
	for i := range statuses {
		wg.Go(func() {
			// Each from its own address: only the login's count can stop them.
			statuses[i], _ = b.signInFrom(testAddress(), "/api/v1/auth/login", login, "wrong-guess-123")
		})
	}
	wg.Wait()
	count := map[int]int{}
	for _, s := range statuses {
		count[s]++
	}
	require.Equal(t, map[int]int{http.StatusUnauthorized: 5, http.StatusTooManyRequests: 25}, count,
		"exactly the five free attempts are checked")
	require.Equal(t, 5, b.failures("login:client:"+login), "every checked attempt is counted")
}

// TestSignInSharedAddress: behind a reverse proxy every client may share an
// address. Once it is slowed down, a wrong password from it waits (429), but
// the right password of a login that is not itself locked still signs in.
func TestSignInSharedAddress(t *testing.T) {
	t.Parallel()
	b := behindProxy(t)
	hash, err := password.Hash("admin-password-123")
	require.NoError(t, err)
	login := "ad" + uniq()
	_, err = b.store.CreateStaff(t.Context(), billing.StaffCreate{Login: login, Email: login + "@staff.example",
		Role: billing.RoleAdmin, Permissions: []string{}}, hash)
	require.NoError(t, err)

	shared := testAddress()
	for i := range 21 {
		status, body := b.signInFrom(shared, "/api/v1/auth/login", fmt.Sprint("nobody", i, uniq()), "guess-guess-1")
		want := http.StatusUnauthorized
		if i >= 20 {
			want = http.StatusTooManyRequests
		}
		require.Equal(t, want, status, "attempt %d: %v", i+1, body)
	}
	require.Equal(t, 21, b.failures("ip:"+shared))

	status, body := b.signInFrom(shared, "/api/v1/auth/staff/login", login, "not-the-password")
	require.Equal(t, http.StatusTooManyRequests, status, "a wrong password from the slowed-down address waits: %v", body)
	status, body = b.signInFrom(shared, "/api/v1/auth/staff/login", login, "admin-password-123")
	require.Equal(t, http.StatusCreated, status, "the admin's right password signs in all the same: %v", body)
	require.Equal(t, 22, b.failures("ip:"+shared), "the success is not counted against the address")
	require.Equal(t, 0, b.failures("login:staff:"+login), "and clears the login's failures")

	status, _ = b.signInFrom(testAddress(), "/api/v1/auth/staff/login", login, "not-the-password")
	require.Equal(t, http.StatusUnauthorized, status, "another address is not slowed down")
}

// TestClientAddress: X-Forwarded-For is believed only from a trusted proxy,
// read from the right: a client can't choose the address it is counted under.
func TestClientAddress(t *testing.T) {
	t.Parallel()
	proxied := behindProxy(t)
	spoofed, real := testAddress(), testAddress()
	login := "ca" + uniq()
	status, _ := proxied.signInFrom(spoofed+", "+real, "/api/v1/auth/login", login, "guess-guess-1")
	require.Equal(t, http.StatusUnauthorized, status)
	require.Equal(t, 1, proxied.failures("ip:"+real), "the address the proxy saw is counted")
	require.Equal(t, 0, proxied.failures("ip:"+spoofed), "not the one the client wrote")

	direct := setup(t) // no trusted proxies: the header is ignored
	login = "cb" + uniq()
	status, _ = direct.request("", "POST", "/api/v1/auth/login", mustJSON(map[string]string{"login": login, "password": "guess-guess-1"}),
		map[string]string{"X-Forwarded-For": spoofed})
	require.Equal(t, http.StatusUnauthorized, status)
	require.Equal(t, 0, direct.failures("ip:"+spoofed), "without trusted proxies the header is ignored")
	var ip string
	require.NoError(t, direct.store.Pool().QueryRow(t.Context(), `SELECT host(ip) FROM audit_log
		WHERE action = 'loginFailed' AND details->>'login' = $1`, login).Scan(&ip))
	require.Equal(t, "127.0.0.1", ip, "the TCP peer is the address")
}

// TestSessionsEnd: an impersonation lives only while its parent session and
// the permission do; a password change ends the user's other sessions;
// disabling a staff member revokes their API keys for good.
func TestSessionsEnd(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := t.Context()
	id, login := b.newCustomer()
	customerID := mustID(t, id)
	users, err := b.store.Users(ctx, customerID)
	require.NoError(t, err)
	user := users[0]

	sLogin := "imp" + uniq()
	staff, err := b.store.CreateStaff(ctx, billing.StaffCreate{Login: sLogin, Email: sLogin + "@staff.example",
		Role: billing.RoleStaff, Permissions: []string{billing.PermImpersonate, billing.PermCustomersRead}}, "x")
	require.NoError(t, err)
	impersonate := func(parent string) string {
		t.Helper()
		status, body := b.doAs(parent, "POST", "/api/v1/customers/"+id+"/impersonate", "")
		require.Equal(t, http.StatusCreated, status, "%v", body)
		return body["token"].(string)
	}
	alive := func(token string) bool {
		t.Helper()
		status, _ := b.doAs(token, "GET", "/api/v1/auth/me", "")
		require.Contains(t, []int{http.StatusOK, http.StatusUnauthorized}, status)
		return status == http.StatusOK
	}

	t.Run("impersonation ends with its parent's logout", func(t *testing.T) {
		parent := b.session(store.Session{Kind: billing.ActorStaff, StaffID: staff.ID})
		imp := impersonate(parent)
		require.True(t, alive(imp))
		status, _ := b.doAs(parent, "POST", "/api/v1/auth/logout", "")
		require.Equal(t, http.StatusNoContent, status)
		require.False(t, alive(imp), "the impersonation ended with the staff session")
		status, body := b.doAs(imp, "POST", "/api/v1/auth/return", "")
		require.Equal(t, http.StatusUnauthorized, status, "return can't hand back a revoked session: %v", body)
	})
	t.Run("impersonation ends when its parent is revoked in the database", func(t *testing.T) {
		parent := b.session(store.Session{Kind: billing.ActorStaff, StaffID: staff.ID})
		imp := impersonate(parent)
		_, err := b.store.Pool().Exec(ctx, `UPDATE sessions SET revoked_at = now()
			WHERE id = (SELECT parent_session_id FROM sessions WHERE kind = 'impersonation' AND staff_id = $1
			ORDER BY id DESC LIMIT 1)`, staff.ID)
		require.NoError(t, err)
		require.False(t, alive(imp), "the parent's liveness is checked on every request, not only at logout")
	})
	t.Run("impersonation ends when the permission is taken away", func(t *testing.T) {
		parent := b.session(store.Session{Kind: billing.ActorStaff, StaffID: staff.ID})
		imp := impersonate(parent)
		status, body := b.do("PATCH", fmt.Sprint("/api/v1/staff/", staff.ID), `{"permissions": ["customers.read"]}`)
		require.Equal(t, http.StatusOK, status, "%v", body)
		require.False(t, alive(imp), "without impersonate the impersonation ends")
		require.True(t, alive(parent), "the staff session itself goes on")
		status, _ = b.doAs(imp, "POST", "/api/v1/auth/return", "")
		require.Equal(t, http.StatusUnauthorized, status)
		status, body = b.do("PATCH", fmt.Sprint("/api/v1/staff/", staff.ID), `{"permissions": ["customers.read", "impersonate"]}`)
		require.Equal(t, http.StatusOK, status, "%v", body)
		require.False(t, alive(imp), "giving the permission back doesn't bring the impersonation back")
	})
	t.Run("a password reset by an admin ends every session of the member", func(t *testing.T) {
		mLogin := "rs" + uniq()
		member, err := b.store.CreateStaff(ctx, billing.StaffCreate{Login: mLogin, Email: mLogin + "@staff.example",
			Role: billing.RoleStaff, Permissions: []string{billing.PermImpersonate}}, "x")
		require.NoError(t, err)
		one := b.session(store.Session{Kind: billing.ActorStaff, StaffID: member.ID})
		imp := impersonate(one)
		status, body := b.do("PATCH", fmt.Sprint("/api/v1/staff/", member.ID), `{"password": "reset-by-admin-1"}`)
		require.Equal(t, http.StatusOK, status, "%v", body)
		require.False(t, alive(one))
		require.False(t, alive(imp), "and the impersonations started from them")
	})
	t.Run("a client's own password change ends their other sessions", func(t *testing.T) {
		mine := b.session(store.Session{Kind: billing.ActorClient, UserID: user.ID, CustomerID: customerID})
		other := b.session(store.Session{Kind: billing.ActorClient, UserID: user.ID, CustomerID: customerID})
		status, body := b.doAs(mine, "PATCH", fmt.Sprint("/api/v1/customers/", id, "/users/", user.ID), `{"password": "a-new-password-1"}`)
		require.Equal(t, http.StatusOK, status, "%v", body)
		require.True(t, alive(mine), "the session that made the change goes on")
		require.False(t, alive(other), "the others end")
		b.signIn("/api/v1/auth/login", login, "a-new-password-1")
	})
	t.Run("a password reset by staff ends every session of the user", func(t *testing.T) {
		one := b.session(store.Session{Kind: billing.ActorClient, UserID: user.ID, CustomerID: customerID})
		two := b.session(store.Session{Kind: billing.ActorClient, UserID: user.ID, CustomerID: customerID})
		status, body := b.do("PATCH", fmt.Sprint("/api/v1/customers/", id, "/users/", user.ID), `{"password": "reset-by-staff-1"}`)
		require.Equal(t, http.StatusOK, status, "%v", body)
		require.False(t, alive(one))
		require.False(t, alive(two))
	})
	t.Run("other changes keep sessions", func(t *testing.T) {
		one := b.session(store.Session{Kind: billing.ActorClient, UserID: user.ID, CustomerID: customerID})
		status, body := b.do("PATCH", fmt.Sprint("/api/v1/customers/", id, "/users/", user.ID), `{"first_name": "Anna"}`)
		require.Equal(t, http.StatusOK, status, "%v", body)
		require.True(t, alive(one))
	})
	t.Run("disabling revokes API keys for good", func(t *testing.T) {
		kLogin := "key" + uniq()
		member, err := b.store.CreateStaff(ctx, billing.StaffCreate{Login: kLogin, Email: kLogin + "@staff.example",
			Role: billing.RoleStaff, Permissions: []string{}}, "x")
		require.NoError(t, err)
		token := b.session(store.Session{Kind: billing.ActorStaff, StaffID: member.ID})
		status, body := b.doAs(token, "POST", "/api/v1/api-keys", `{"name": "ci"}`)
		require.Equal(t, http.StatusCreated, status, "%v", body)
		key := body["key"].(string)
		require.True(t, alive(key))
		path := fmt.Sprint("/api/v1/staff/", member.ID)
		status, body = b.do("PATCH", path, `{"status": "disabled"}`)
		require.Equal(t, http.StatusOK, status, "%v", body)
		require.False(t, alive(key))
		status, body = b.do("PATCH", path, `{"status": "active"}`)
		require.Equal(t, http.StatusOK, status, "%v", body)
		require.False(t, alive(key), "enabling the member again doesn't bring the key back")
		require.False(t, alive(token), "nor the session")
	})
}

// TestStaleLoginFailuresAreForgotten: failures older than an hour are
// deleted by later sign-in attempts, so ever new logins can't grow the table.
func TestStaleLoginFailuresAreForgotten(t *testing.T) {
	t.Parallel()
	b := behindProxy(t)
	stale := "login:client:stale" + uniq()
	_, err := b.store.Pool().Exec(t.Context(), `INSERT INTO login_failures (key, failures, last_failure_at)
		VALUES ($1, 3, now() - interval '2 hours')`, stale)
	require.NoError(t, err)
	status, _ := b.signInFrom(testAddress(), "/api/v1/auth/login", "nobody"+uniq(), "guess-guess-1")
	require.Equal(t, http.StatusUnauthorized, status)
	var n int
	require.NoError(t, b.store.Pool().QueryRow(t.Context(), `SELECT count(*) FROM login_failures WHERE key = $1`, stale).Scan(&n))
	require.Zero(t, n, "the stale row is gone")
}
