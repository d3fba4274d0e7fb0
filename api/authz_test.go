package api_test

import (
	"crypto/sha256"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/password"
	"github.com/tempobill/billing/store"
)

// The callers of the authorization matrix, in the order of a want row.
var callers = []string{"anonymous", "client A", "client B", "staff without permission", "staff with permission", "admin"}

// want is the expected status for each caller.
type want [6]int

// fixture is a fresh world for one cell: customers A and B with their
// objects and a session for every caller.
type fixture struct {
	A, B          billing.Customer
	userA         billing.User // A's main user
	extraUserA    billing.User // a second user of A, deletable
	payerA        billing.Payer
	paymentA      billing.Payment
	product       billing.Product
	otherStaff    billing.Staff
	otherStaffKey billing.APIKey
	subA          int64                    // a running, active subscription of A, when the cell asks for one
	messageA      int64                    // a message to A (recorded, no workflow), when the cell asks for one
	textID        int64                    // a saved message text, when the cell asks for one
	failedNoticeA int64                    // a notification to A's main user that failed
	invoiceA      int64                    // an invoice of A
	discountA     billing.Discount         // a discount of A
	creditNoteA   int64                    // a credit note of invoiceA
	replyID       int64                    // a pre-defined reply for all departments, when the cell asks for one
	replyTicketA  int64                    // a ticket of A in a department no matrix staff member is in, when the cell asks for one
	links         map[string]string        // a usable one-time link token of A's main user, per purpose
	markerA       string                   // appears in A's data only
	department    billing.Department       // "staff with permission" is a member; ticketA is in it
	emptyDept     billing.Department       // a department without tickets, deletable
	ticketA       int64                    // a ticket of A in department, opened by A's main user
	departmentD   int64                    // a support department whose member is the staff with permission, when the cell asks for one
	taskD         int64                    // a task of departmentD
	attachmentA   billing.TicketAttachment // a file of a client's message in a ticket of A in departmentD
	gatewayID     int64                    // a mail gateway (its server a closed port), when the cell asks for one
	incomingEmail int64                    // an incoming email of department, kept as received, when the cell asks for one
	markerB       string
	tokens        [6]string
	uniq          string
}

// matrixPassword is the password of every fixture user and staff member; its
// hash is computed once and shared, since argon2id is slow on purpose.
const matrixPassword = "matrix-password-123"

type matrix struct {
	b        *bundle
	hash     string
	staffIDs [3]int64 // staff without permission, staff with every permission, admin
}

func newMatrix(t *testing.T) *matrix {
	b := setup(t, withGatewayKey)
	hash, err := password.Hash(matrixPassword)
	require.NoError(t, err)
	m := &matrix{b: b, hash: hash}
	for i, s := range []billing.StaffCreate{
		{Role: billing.RoleStaff},
		{Role: billing.RoleStaff, Permissions: billing.Permissions},
		{Role: billing.RoleAdmin},
	} {
		s.Login, s.Email = "m"+uniq(), uniq()+"@staff.example"
		if s.Permissions == nil {
			s.Permissions = []string{}
		}
		st, err := b.store.CreateStaff(t.Context(), s, hash)
		require.NoError(t, err)
		m.staffIDs[i] = st.ID
	}
	return m
}

func (m *matrix) customer(t *testing.T, marker string) (billing.Customer, billing.User) {
	login := "x" + uniq()
	in := billing.CustomerCreate{AccountType: billing.AccountIndividual, Name: "Customer " + marker, Country: "DE",
		User: billing.UserCreate{Login: login, Email: login + "@example.com", FirstName: marker}}
	in.Defaults()
	c, u, err := m.b.store.CreateCustomer(t.Context(), in, m.hash)
	require.NoError(t, err)
	return c, u
}

func (m *matrix) fixture(t *testing.T) *fixture {
	ctx := t.Context()
	st := m.b.store
	f := &fixture{markerA: "MARKA" + uniq(), markerB: "MARKB" + uniq(), uniq: uniq()}
	f.A, f.userA = m.customer(t, f.markerA)
	var userB billing.User
	f.B, userB = m.customer(t, f.markerB)
	var err error
	login := "e" + uniq()
	f.extraUserA, err = st.CreateUser(ctx, f.A.ID, billing.UserCreate{Login: login, Email: login + "@example.com", Language: "en"}, m.hash)
	require.NoError(t, err)
	f.payerA, err = st.CreatePayer(ctx, f.A.ID, billing.PayerInput{Type: "individual", LegalName: "Payer " + f.markerA, Country: "DE"})
	require.NoError(t, err)
	f.paymentA, err = st.CreatePayment(ctx, billing.PaymentCreate{CustomerID: f.A.ID, Method: billing.MethodWireTransfer, Amount: 100, Currency: "EUR", ExternalID: f.markerA})
	require.NoError(t, err)
	_, err = st.CreatePayment(ctx, billing.PaymentCreate{CustomerID: f.B.ID, Method: billing.MethodWireTransfer, Amount: 100, Currency: "EUR", ExternalID: f.markerB})
	require.NoError(t, err)
	in := billing.ProductInput{Name: "Product", Price: new(int64), Currency: "EUR", PeriodUnit: billing.PeriodMonth}
	f.product, err = st.CreateProduct(ctx, in.Product())
	require.NoError(t, err)
	f.invoiceA = invoiceFor(t, st, f.A)
	bp := 1000
	f.discountA, err = st.CreateDiscount(ctx, f.A.ID, billing.DiscountInput{PercentBP: &bp})
	require.NoError(t, err)
	f.creditNoteA = creditNoteFor(t, st, f.invoiceA)
	f.department, f.emptyDept, f.ticketA = m.support(t, f)
	f.otherStaff, err = st.CreateStaff(ctx, billing.StaffCreate{Login: "o" + uniq(), Email: uniq() + "@staff.example", Role: billing.RoleStaff, Permissions: []string{}}, m.hash)
	require.NoError(t, err)
	f.otherStaffKey, err = st.CreateAPIKey(ctx, f.otherStaff.ID, "ci", "bk_xxxx", []byte(uniq()))
	require.NoError(t, err)

	n, claimed, err := st.ClaimNotice(ctx, "matrix:"+f.uniq, billing.Notice{CustomerID: &f.A.ID, Event: "registration",
		ObjectType: "customer", ObjectID: fmt.Sprint(f.A.ID), Channel: billing.ChannelEmail, Recipient: f.userA.Email,
		Template: "default:registration", Subject: "Welcome", Body: "Hello"})
	require.NoError(t, err)
	require.True(t, claimed)
	require.NoError(t, st.FinishNotice(ctx, n, billing.NoticeFailed, "", "421 try again later"))
	f.failedNoticeA = n.ID
	f.links = map[string]string{}
	for _, purpose := range []string{billing.TokenSetPassword, billing.TokenActivateEmail, billing.TokenVerifyAccount} {
		token := "link" + uniq() + uniq()
		sum := sha256.Sum256([]byte(token))
		_, err := st.CreateAccountToken(ctx, f.userA.ID, f.userA.Email, store.NewToken{Purpose: purpose, Hash: sum[:], ExpiresAt: time.Now().Add(time.Hour)})
		require.NoError(t, err)
		f.links[purpose] = token
	}

	f.tokens[1] = m.b.session(store.Session{Kind: billing.ActorClient, UserID: f.userA.ID, CustomerID: f.A.ID})
	f.tokens[2] = m.b.session(store.Session{Kind: billing.ActorClient, UserID: userB.ID, CustomerID: f.B.ID})
	for i, id := range m.staffIDs {
		f.tokens[3+i] = m.b.session(store.Session{Kind: billing.ActorStaff, StaffID: id})
	}
	return f
}

// support gives the fixture a department with "staff with permission" as a
// member (along with the departments they are in already), a department
// without tickets, and a ticket of A (its subject carries A's marker).
func (m *matrix) support(t *testing.T, f *fixture) (billing.Department, billing.Department, int64) {
	ctx, st := t.Context(), m.b.store
	var depts [2]billing.Department
	for i := range depts {
		name := "Matrix " + uniq()
		d, err := st.CreateDepartment(ctx, billing.DepartmentInput{Name: &name})
		require.NoError(t, err)
		depts[i] = d
	}
	member, err := st.StaffDepartments(ctx, m.staffIDs[1])
	require.NoError(t, err)
	require.NoError(t, st.SetStaffDepartments(ctx, m.staffIDs[1], append(member, depts[0].ID)))
	ch, err := st.OpenTicket(ctx, store.NewTicket{CustomerID: f.A.ID, DepartmentID: depts[0].ID, Subject: "Ticket " + f.markerA,
		Body: "Help " + f.markerA, Author: billing.TicketAuthor{UserID: f.userA.ID}})
	require.NoError(t, err)
	return depts[0], depts[1], ch.Ticket.ID
}

// tasksSupport makes departmentD, with the staff with permission as a member
// (their other memberships kept), a task of it, and a ticket of A in it
// with a client's message and its file (inserted with SQL, as the ticket
// API is built in parallel).
func (m *matrix) tasksSupport(t *testing.T, f *fixture) {
	ctx := t.Context()
	st := m.b.store
	name := "Matrix " + f.uniq
	d, err := st.CreateDepartment(ctx, billing.DepartmentInput{Name: &name})
	require.NoError(t, err)
	f.departmentD = d.ID
	ids, err := st.StaffDepartments(ctx, m.staffIDs[1])
	require.NoError(t, err)
	require.NoError(t, st.SetStaffDepartments(ctx, m.staffIDs[1], append(ids, d.ID)))
	task, err := st.CreateTask(ctx, billing.Principal{Kind: billing.ActorStaff, Role: billing.RoleAdmin, StaffID: m.staffIDs[2]},
		billing.Task{DepartmentID: d.ID, Title: "Matrix", Status: billing.TaskOpen, CreatedByID: m.staffIDs[2]})
	require.NoError(t, err)
	f.taskD = task.ID
	var ticket, message int64
	require.NoError(t, st.Pool().QueryRow(ctx, `INSERT INTO tickets (customer_id, department_id, subject, reply_token)
		VALUES ($1, $2, 'Matrix', $3) RETURNING id`, f.A.ID, d.ID, "matrix"+f.uniq).Scan(&ticket))
	require.NoError(t, st.Pool().QueryRow(ctx, `INSERT INTO ticket_messages (ticket_id, kind, body)
		VALUES ($1, 'client', 'Matrix') RETURNING id`, ticket).Scan(&message))
	files, err := st.AddAttachments(ctx, ticket, message, []billing.AttachmentUpload{{Name: "a.txt", Content: []byte("file of " + f.markerA)}})
	require.NoError(t, err)
	f.attachmentA = files[0]
}

// subscription orders the fixture's free product for A, as an admin through
// the API, and waits until its workflow has activated it.
func (m *matrix) subscription(t *testing.T, f *fixture) int64 {
	status, body := m.b.doJSON("POST", "/api/v1/subscriptions", map[string]any{"customer_id": f.A.ID, "product_id": f.product.ID})
	require.Equal(t, created, status, "%v", body)
	id := jsonID(body)
	require.Eventually(t, func() bool {
		_, got := m.b.do("GET", "/api/v1/subscriptions/"+id, "")
		sched, _ := got["schedule"].(map[string]any)
		return sched != nil && sched["status"] == billing.SubscriptionActive
	}, 30*time.Second, 20*time.Millisecond, "the subscription's workflow activates it")
	n, err := strconv.ParseInt(id, 10, 64)
	require.NoError(t, err)
	return n
}

// cell is what one route is called with, and what each caller gets.
type cell struct {
	path func(f *fixture) string
	body func(f *fixture) string
	want want
}

func fixed(s string) func(*fixture) string { return func(*fixture) string { return s } }

// Statuses, named for the table below.
const (
	ok, created, noContent = 200, 201, 204
	accepted               = 202
	unauth, forbid, absent = 401, 403, 404
	invalid, conflict      = 422, 409
)

// matrixCells lists every route. A route missing here fails the test, so a
// new route can't be added without deciding who may call it.
func matrixCells() map[string]cell {
	a := func(f *fixture) string { return fmt.Sprint(f.A.ID) }
	custA := func(suffix string) func(*fixture) string {
		return func(f *fixture) string { return "/api/v1/customers/" + a(f) + suffix }
	}
	own := func(success int) want { return want{unauth, success, absent, forbid, success, success} }
	staffOnly := func(success int) want { return want{unauth, forbid, forbid, forbid, success, success} }
	anyStaff := func(success int) want { return want{unauth, forbid, forbid, success, success, success} }
	textPath := func(f *fixture) string { return fmt.Sprint("/api/v1/message-texts/", f.textID) }
	replyPath := func(f *fixture) string { return fmt.Sprint("/api/v1/predefined-replies/", f.replyID) }
	everyone := func(status int) want { return want{status, status, status, status, status, status} }
	signedIn := func(status int) want { return want{unauth, status, status, status, status, status} }
	none := fixed("")
	subPath := func(suffix string) func(*fixture) string {
		return func(f *fixture) string { return fmt.Sprint("/api/v1/subscriptions/", f.subA, suffix) }
	}
	deptPath := func(f *fixture) string { return fmt.Sprint("/api/v1/departments/", f.department.ID) }
	gatewayPath := func(suffix string) func(*fixture) string {
		return func(f *fixture) string { return fmt.Sprint("/api/v1/mail-gateways/", f.gatewayID, suffix) }
	}
	ticketPath := func(suffix string) func(*fixture) string {
		return func(f *fixture) string { return fmt.Sprint("/api/v1/tickets/", f.ticketA, suffix) }
	}
	incomingPath := func(suffix string) func(*fixture) string {
		return func(f *fixture) string { return fmt.Sprint("/api/v1/incoming-emails/", f.incomingEmail, suffix) }
	}
	ticketRule := func(success int) want { return want{unauth, success, absent, absent, success, success} }
	return map[string]cell{
		"GET /healthz":             {fixed("/healthz"), none, everyone(ok)},
		"GET /readyz":              {fixed("/readyz"), none, everyone(ok)},
		"GET /metrics":             {fixed("/metrics"), none, anyStaff(ok)},
		"GET /api/v1/openapi.json": {fixed("/api/v1/openapi.json"), none, everyone(ok)},
		"POST /api/v1/auth/login": {fixed("/api/v1/auth/login"), func(f *fixture) string {
			return `{"login": "` + f.userA.Login + `", "password": "` + matrixPassword + `"}`
		}, everyone(created)},
		"POST /api/v1/auth/staff/login": {fixed("/api/v1/auth/staff/login"), func(f *fixture) string {
			return `{"login": "` + f.otherStaff.Login + `", "password": "` + matrixPassword + `"}`
		}, everyone(created)},
		// The public account routes: a body that fails validation is not
		// counted by their rate limits, so the matrix can call them from one address.
		"POST /api/v1/auth/register": {fixed("/api/v1/auth/register"), fixed(`{}`), everyone(invalid)},
		"POST /api/v1/auth/set-password": {fixed("/api/v1/auth/set-password"), func(f *fixture) string {
			return `{"token": "` + f.links[billing.TokenSetPassword] + `", "password": "` + matrixPassword + `"}`
		}, everyone(noContent)},
		"POST /api/v1/auth/activate": {fixed("/api/v1/auth/activate"), func(f *fixture) string {
			return `{"token": "` + f.links[billing.TokenActivateEmail] + `"}`
		}, everyone(noContent)},
		"POST /api/v1/auth/activation/resend": {fixed("/api/v1/auth/activation/resend"), fixed(`{"email": "not an address"}`), everyone(invalid)},
		"POST /api/v1/auth/verify": {fixed("/api/v1/auth/verify"), func(f *fixture) string {
			return `{"token": "` + f.links[billing.TokenVerifyAccount] + `"}`
		}, everyone(noContent)},
		"POST /api/v1/auth/logout": {fixed("/api/v1/auth/logout"), none, signedIn(noContent)},
		"GET /api/v1/auth/me":      {fixed("/api/v1/auth/me"), none, signedIn(ok)},
		"POST /api/v1/auth/return": {fixed("/api/v1/auth/return"), none, signedIn(invalid)},
		"GET /api/v1/staff":        {fixed("/api/v1/staff"), none, staffOnly(ok)},
		"POST /api/v1/staff": {fixed("/api/v1/staff"), func(f *fixture) string {
			return `{"login": "n` + f.uniq + `", "email": "n` + f.uniq + `@staff.example"}`
		}, staffOnly(created)},
		"GET /api/v1/staff/:id":   {func(f *fixture) string { return fmt.Sprint("/api/v1/staff/", f.otherStaff.ID) }, none, staffOnly(ok)},
		"PATCH /api/v1/staff/:id": {func(f *fixture) string { return fmt.Sprint("/api/v1/staff/", f.otherStaff.ID) }, fixed(`{"name": "Renamed"}`), staffOnly(ok)},
		"GET /api/v1/staff/:id/notification-settings": {func(f *fixture) string {
			return fmt.Sprint("/api/v1/staff/", f.otherStaff.ID, "/notification-settings")
		}, none, staffOnly(ok)},
		"PUT /api/v1/staff/:id/notification-settings": {func(f *fixture) string {
			return fmt.Sprint("/api/v1/staff/", f.otherStaff.ID, "/notification-settings")
		}, fixed(`{"events": {"task_created": false}}`), staffOnly(ok)},
		"GET /api/v1/api-keys":  {fixed("/api/v1/api-keys"), none, anyStaff(ok)},
		"POST /api/v1/api-keys": {fixed("/api/v1/api-keys"), fixed(`{"name": "integration"}`), anyStaff(created)},
		"DELETE /api/v1/api-keys/:id": {func(f *fixture) string { return fmt.Sprint("/api/v1/api-keys/", f.otherStaffKey.ID) }, none,
			want{unauth, forbid, forbid, absent, ok, ok}}, // only staff managers revoke others' keys
		"GET /api/v1/audit": {fixed("/api/v1/audit"), none, staffOnly(ok)},
		"POST /api/v1/customers": {fixed("/api/v1/customers"), func(f *fixture) string {
			return `{"account_type": "individual", "name": "New", "country": "DE", "user": {"login": "c` + f.uniq + `", "email": "c` + f.uniq + `@example.com"}}`
		}, staffOnly(created)},
		"GET /api/v1/customers":                  {fixed("/api/v1/customers?limit=200&sort=-id"), none, staffOnly(ok)},
		"GET /api/v1/customers/:id":              {custA(""), none, own(ok)},
		"PATCH /api/v1/customers/:id":            {custA(""), fixed(`{"contact_person": "Bob"}`), own(ok)},
		"DELETE /api/v1/customers/:id":           {custA(""), none, staffOnly(ok)},
		"POST /api/v1/customers/:id/impersonate": {custA("/impersonate"), none, staffOnly(created)},
		"GET /api/v1/customers/:id/users":        {custA("/users"), none, own(ok)},
		"POST /api/v1/customers/:id/users": {custA("/users"), func(f *fixture) string {
			return `{"login": "u` + f.uniq + `", "email": "u` + f.uniq + `@example.com"}`
		}, own(created)},
		"GET /api/v1/customers/:id/users/:user_id": {func(f *fixture) string { return custA(fmt.Sprint("/users/", f.extraUserA.ID))(f) }, none, own(ok)},
		"PATCH /api/v1/customers/:id/users/:user_id": {func(f *fixture) string { return custA(fmt.Sprint("/users/", f.extraUserA.ID))(f) },
			fixed(`{"first_name": "Eve"}`), own(ok)},
		"DELETE /api/v1/customers/:id/users/:user_id": {func(f *fixture) string { return custA(fmt.Sprint("/users/", f.extraUserA.ID))(f) }, none, own(noContent)},
		"GET /api/v1/customers/:id/payers":            {custA("/payers"), none, own(ok)},
		"POST /api/v1/customers/:id/payers":           {custA("/payers"), fixed(`{"type": "individual", "legal_name": "P", "country": "DE"}`), own(created)},
		"GET /api/v1/customers/:id/payers/:payer_id":  {func(f *fixture) string { return custA(fmt.Sprint("/payers/", f.payerA.ID))(f) }, none, own(ok)},
		"PUT /api/v1/customers/:id/payers/:payer_id": {func(f *fixture) string { return custA(fmt.Sprint("/payers/", f.payerA.ID))(f) },
			fixed(`{"type": "individual", "legal_name": "Q", "country": "FR"}`), own(ok)},
		"DELETE /api/v1/customers/:id/payers/:payer_id": {func(f *fixture) string { return custA(fmt.Sprint("/payers/", f.payerA.ID))(f) }, none, own(noContent)},
		"POST /api/v1/customers/:id/payers/:payer_id/verify": {func(f *fixture) string { return custA(fmt.Sprint("/payers/", f.payerA.ID, "/verify"))(f) },
			fixed(`{"verified": true}`), staffOnly(ok)},
		"POST /api/v1/payer-verifications":     {fixed("/api/v1/payer-verifications"), fixed(`{"token": "pv_UNKNOWN"}`), everyone(absent)},
		"GET /api/v1/customers/:id/balance":    {custA("/balance"), none, own(ok)},
		"GET /api/v1/customers/:id/ledger":     {custA("/ledger"), none, own(ok)},
		"GET /api/v1/customers/:id/expenses":   {custA("/expenses"), none, own(ok)},
		"GET /api/v1/customers/:id/incidents":  {custA("/incidents"), none, own(ok)},
		"POST /api/v1/customers/:id/incidents": {custA("/incidents"), fixed(`{"count": 2, "note": "goodwill"}`), staffOnly(created)},
		"GET /api/v1/customers/:id/discounts":  {custA("/discounts"), none, own(ok)},
		"POST /api/v1/customers/:id/discounts": {custA("/discounts"), fixed(`{"percent_bp": 1000}`), staffOnly(created)},
		"GET /api/v1/customers/:id/discounts/:discount_id": {func(f *fixture) string { return custA(fmt.Sprint("/discounts/", f.discountA.ID))(f) },
			none, own(ok)},
		"PUT /api/v1/customers/:id/discounts/:discount_id": {func(f *fixture) string { return custA(fmt.Sprint("/discounts/", f.discountA.ID))(f) },
			fixed(`{"amount": 100, "currency": "EUR"}`), staffOnly(ok)},
		"DELETE /api/v1/customers/:id/discounts/:discount_id": {func(f *fixture) string { return custA(fmt.Sprint("/discounts/", f.discountA.ID))(f) },
			none, staffOnly(ok)},
		"POST /api/v1/customers/:id/ledger": {custA("/ledger"), func(f *fixture) string {
			return `{"kind": "credit", "amount": 100, "currency": "EUR", "reference": "goodwill", "idempotency_key": "` + f.uniq + `"}`
		}, staffOnly(created)},
		"POST /api/v1/products":    {fixed("/api/v1/products"), fixed(`{"name": "P", "price": 100, "currency": "EUR", "period_unit": "month"}`), staffOnly(created)},
		"GET /api/v1/products":     {fixed("/api/v1/products"), none, signedIn(ok)},
		"GET /api/v1/products/:id": {func(f *fixture) string { return fmt.Sprint("/api/v1/products/", f.product.ID) }, none, signedIn(ok)},
		"PUT /api/v1/products/:id": {func(f *fixture) string { return fmt.Sprint("/api/v1/products/", f.product.ID) },
			fixed(`{"name": "P2", "price": 200, "currency": "EUR", "period_unit": "month"}`), staffOnly(ok)},
		"POST /api/v1/payments": {fixed("/api/v1/payments"), func(f *fixture) string {
			return `{"customer_id": ` + a(f) + `, "method": "electronic", "amount": 500, "currency": "EUR"}`
		}, own(created)},
		"GET /api/v1/payments": {fixed("/api/v1/payments?limit=200"), none, want{unauth, ok, ok, forbid, ok, ok}},
		"POST /api/v1/subscriptions": {fixed("/api/v1/subscriptions"), func(f *fixture) string {
			return fmt.Sprintf(`{"customer_id": %d, "product_id": %d}`, f.A.ID, f.product.ID)
		}, own(created)},
		"GET /api/v1/subscriptions":                     {fixed("/api/v1/subscriptions?limit=200"), none, want{unauth, ok, ok, forbid, ok, ok}},
		"GET /api/v1/subscriptions/:id":                 {subPath(""), none, own(ok)},
		"GET /api/v1/subscriptions/:id/notices":         {subPath("/notices"), none, own(ok)},
		"POST /api/v1/subscriptions/:id/suspend":        {subPath("/suspend"), fixed(`{"reason": "abuse"}`), staffOnly(ok)},
		"POST /api/v1/subscriptions/:id/resume":         {subPath("/resume"), none, staffOnly(conflict)}, // it is not suspended
		"POST /api/v1/subscriptions/:id/cancel":         {subPath("/cancel"), fixed(`{"at_period_end": true}`), own(ok)},
		"POST /api/v1/subscriptions/:id/renew":          {subPath("/renew"), none, own(ok)},
		"POST /api/v1/subscriptions/:id/change-product": {subPath("/change-product"), func(f *fixture) string { return fmt.Sprintf(`{"product_id": %d}`, f.product.ID) }, staffOnly(ok)},
		"POST /api/v1/subscriptions/:id/auto-renew":     {subPath("/auto-renew"), fixed(`{"enabled": false}`), own(ok)},
		"POST /api/v1/subscriptions/:id/extend":         {subPath("/extend"), fixed(`{"days": 5}`), staffOnly(ok)},
		"POST /api/v1/subscriptions/:id/updates-until":  {subPath("/updates-until"), fixed(`{"updates_until": "2030-01-01T00:00:00Z"}`), staffOnly(conflict)},
		"PUT /api/v1/subscriptions/:id/parameters":      {subPath("/parameters"), fixed(`{"parameters": {"domain": "a.example"}}`), own(invalid)},
		"POST /api/v1/subscriptions/:id/usage":          {subPath("/usage"), fixed(`{"events": [{"resource": "disk", "quantity": 1, "idempotency_key": "k"}]}`), staffOnly(invalid)}, // the product declares no disk
		"GET /api/v1/subscriptions/:id/usage":           {subPath("/usage"), none, own(ok)},
		"GET /api/v1/notice-templates":                  {fixed("/api/v1/notice-templates"), none, anyStaff(ok)},
		"PUT /api/v1/notice-templates/:milestone":       {fixed("/api/v1/notice-templates/cancelled"), fixed(`{"subject": "Cancelled", "body": "Your service was cancelled."}`), staffOnly(ok)},
		"DELETE /api/v1/notice-templates/:milestone":    {fixed("/api/v1/notice-templates/cancelled"), none, staffOnly(ok)},
		"GET /api/v1/settings":                          {fixed("/api/v1/settings"), none, anyStaff(ok)},
		"PATCH /api/v1/settings":                        {fixed("/api/v1/settings"), fixed(`{"default_language": "en"}`), staffOnly(ok)}, // the defaults: other tests see no change
		"GET /api/v1/notification-events":               {fixed("/api/v1/notification-events"), none, anyStaff(ok)},
		"POST /api/v1/notification-events/:event/preview": {fixed("/api/v1/notification-events/activated/preview"),
			fixed(`{"channel": "email"}`), staffOnly(ok)},
		"GET /api/v1/message-templates":                           {fixed("/api/v1/message-templates"), none, anyStaff(ok)},
		"GET /api/v1/message-templates/:event/:channel/:language": {fixed("/api/v1/message-templates/renewed/email/en"), none, anyStaff(ok)},
		// Esperanto is the matrix's own language: no other test uses it.
		"PUT /api/v1/message-templates/:event/:channel/:language": {fixed("/api/v1/message-templates/renewed/email/eo"),
			fixed(`{"subject": "Renovigita", "body": "Saluton [USER_NAME]"}`), staffOnly(ok)},
		"DELETE /api/v1/message-templates/:event/:channel/:language": {fixed("/api/v1/message-templates/renewed/email/eo"), none, staffOnly(noContent)},
		"GET /api/v1/notifications":                                  {fixed("/api/v1/notifications?limit=200"), none, want{unauth, ok, ok, forbid, ok, ok}},
		"POST /api/v1/notifications/:id/resend": {func(f *fixture) string { return fmt.Sprint("/api/v1/notifications/", f.failedNoticeA, "/resend") },
			none, staffOnly(accepted)},
		"POST /api/v1/messages": {fixed("/api/v1/messages"), func(f *fixture) string {
			return fmt.Sprintf(`{"customer_id": %d, "category": "info", "subject": "Matrix", "text": "Hello"}`, f.A.ID)
		}, staffOnly(accepted)},
		"GET /api/v1/messages":     {fixed("/api/v1/messages"), none, staffOnly(ok)},
		"GET /api/v1/messages/:id": {func(f *fixture) string { return fmt.Sprint("/api/v1/messages/", f.messageA) }, none, staffOnly(ok)},
		// The message has no workflow (it was only recorded): a cancel finds nothing to stop.
		"POST /api/v1/messages/:id/cancel": {func(f *fixture) string { return fmt.Sprint("/api/v1/messages/", f.messageA, "/cancel") },
			none, want{unauth, forbid, forbid, forbid, conflict, conflict}},
		"GET /api/v1/message-texts": {fixed("/api/v1/message-texts?limit=200"), none, staffOnly(ok)},
		"POST /api/v1/message-texts": {fixed("/api/v1/message-texts"), func(f *fixture) string {
			return fmt.Sprintf(`{"name": "Matrix %s", "category": "info", "subject": "Matrix", "text": "Hello"}`, f.uniq)
		}, staffOnly(created)},
		"GET /api/v1/message-texts/:id": {textPath, none, staffOnly(ok)},
		"PUT /api/v1/message-texts/:id": {textPath, func(f *fixture) string {
			return fmt.Sprintf(`{"name": "Matrix put %s", "category": "promo", "subject": "Matrix", "text": "Hello again"}`, f.uniq)
		}, staffOnly(ok)},
		"DELETE /api/v1/message-texts/:id": {textPath, none, staffOnly(noContent)},
		"GET /api/v1/invoices":             {fixed("/api/v1/invoices?limit=200"), none, want{unauth, ok, ok, forbid, ok, ok}},
		"GET /api/v1/invoices/:id":         {func(f *fixture) string { return fmt.Sprint("/api/v1/invoices/", f.invoiceA) }, none, own(ok)},
		"GET /api/v1/invoices/:id/pdf": {func(f *fixture) string { return fmt.Sprint("/api/v1/invoices/", f.invoiceA, "/pdf") },
			none, own(ok)},
		"GET /api/v1/invoices/:id/html": {func(f *fixture) string { return fmt.Sprint("/api/v1/invoices/", f.invoiceA, "/html") },
			none, own(ok)},
		"POST /api/v1/invoices/:id/credit-notes": {func(f *fixture) string { return fmt.Sprint("/api/v1/invoices/", f.invoiceA, "/credit-notes") },
			fixed(`{"amount": 1, "reason": "matrix"}`), staffOnly(created)},
		"GET /api/v1/credit-notes":     {fixed("/api/v1/credit-notes?limit=200"), none, want{unauth, ok, ok, forbid, ok, ok}},
		"GET /api/v1/credit-notes/:id": {func(f *fixture) string { return fmt.Sprint("/api/v1/credit-notes/", f.creditNoteA) }, none, own(ok)},
		"GET /api/v1/credit-notes/:id/html": {func(f *fixture) string { return fmt.Sprint("/api/v1/credit-notes/", f.creditNoteA, "/html") },
			none, own(ok)},
		"GET /api/v1/credit-notes/:id/pdf": {func(f *fixture) string { return fmt.Sprint("/api/v1/credit-notes/", f.creditNoteA, "/pdf") },
			none, own(ok)},
		"GET /api/v1/payments/:id": {func(f *fixture) string { return fmt.Sprint("/api/v1/payments/", f.paymentA.ID) }, none, own(ok)},
		// Pre-defined replies: any staff member uses one for all departments;
		// keeping it needs support.manage. A ticket's replies need its department
		// (the matrix's staff are in none; an admin sees every department).
		"GET /api/v1/predefined-replies": {fixed("/api/v1/predefined-replies?limit=200"), none, anyStaff(ok)},
		"POST /api/v1/predefined-replies": {fixed("/api/v1/predefined-replies"), func(f *fixture) string {
			return `{"name": "Matrix ` + f.uniq + `", "body": "Hello [USER_NAME]"}`
		}, staffOnly(created)},
		"GET /api/v1/predefined-replies/:id":    {replyPath, none, anyStaff(ok)},
		"PUT /api/v1/predefined-replies/:id":    {replyPath, fixed(`{"name": "Matrix put", "body": "Hello again"}`), staffOnly(ok)},
		"DELETE /api/v1/predefined-replies/:id": {replyPath, none, staffOnly(noContent)},
		"GET /api/v1/tickets/:id/predefined-replies": {func(f *fixture) string { return fmt.Sprint("/api/v1/tickets/", f.replyTicketA, "/predefined-replies") },
			none, want{unauth, forbid, forbid, absent, absent, ok}},
		// Support: staff who are members of the department (the staff with
		// permission is one of departmentD) and admins; others get 404.
		"GET /api/v1/tasks": {fixed("/api/v1/tasks?limit=200"), none, anyStaff(ok)},
		"POST /api/v1/tasks": {fixed("/api/v1/tasks"), func(f *fixture) string {
			return fmt.Sprintf(`{"department_id": %d, "title": "Matrix task"}`, f.departmentD)
		}, want{unauth, forbid, forbid, forbid, created, created}},
		"GET /api/v1/tasks/:id": {func(f *fixture) string { return fmt.Sprint("/api/v1/tasks/", f.taskD) }, none,
			want{unauth, forbid, forbid, absent, ok, ok}},
		"PATCH /api/v1/tasks/:id": {func(f *fixture) string { return fmt.Sprint("/api/v1/tasks/", f.taskD) }, fixed(`{"status": "done"}`),
			want{unauth, forbid, forbid, absent, ok, ok}},
		// Incoming emails: staff of the email's department (the staff with
		// permission is a member of department) and admins; others get 404.
		"GET /api/v1/incoming-emails":         {fixed("/api/v1/incoming-emails?limit=200"), none, anyStaff(ok)},
		"GET /api/v1/incoming-emails/:id":     {incomingPath(""), none, want{unauth, forbid, forbid, absent, ok, ok}},
		"GET /api/v1/incoming-emails/:id/raw": {incomingPath("/raw"), none, want{unauth, forbid, forbid, absent, ok, ok}},
		"POST /api/v1/incoming-emails/:id/ticket": {incomingPath("/ticket"), func(f *fixture) string {
			return fmt.Sprintf(`{"customer_id": %d}`, f.A.ID)
		}, want{unauth, forbid, forbid, absent, created, created}},
		"POST /api/v1/incoming-emails/:id/discard": {incomingPath("/discard"), none, want{unauth, forbid, forbid, absent, ok, ok}},
		"GET /api/v1/tickets/:id/attachments/:attachment_id": {func(f *fixture) string {
			return fmt.Sprintf("/api/v1/tickets/%d/attachments/%d", f.attachmentA.TicketID, f.attachmentA.ID)
		}, none, want{unauth, ok, absent, absent, ok, ok}},
		"POST /api/v1/payments/:id/paid":   {func(f *fixture) string { return fmt.Sprint("/api/v1/payments/", f.paymentA.ID, "/paid") }, none, staffOnly(ok)},
		"POST /api/v1/payments/:id/cancel": {func(f *fixture) string { return fmt.Sprint("/api/v1/payments/", f.paymentA.ID, "/cancel") }, none, staffOnly(ok)},
		"GET /api/v1/departments":          {fixed("/api/v1/departments"), none, signedIn(ok)},
		"POST /api/v1/departments": {fixed("/api/v1/departments"), func(f *fixture) string {
			return `{"name": "Dept ` + f.uniq + `"}`
		}, staffOnly(created)},
		"GET /api/v1/departments/:id":   {deptPath, none, staffOnly(ok)},
		"PATCH /api/v1/departments/:id": {deptPath, fixed(`{"email": "support@provider.example"}`), staffOnly(ok)},
		"DELETE /api/v1/departments/:id": {func(f *fixture) string { return fmt.Sprint("/api/v1/departments/", f.emptyDept.ID) }, none,
			staffOnly(noContent)},
		// Mail gateways: gateways.manage. The test connection reaches a
		// closed port: 200 with ok false.
		"GET /api/v1/mail-gateways": {fixed("/api/v1/mail-gateways"), none, staffOnly(ok)},
		"POST /api/v1/mail-gateways": {fixed("/api/v1/mail-gateways"), func(f *fixture) string {
			return fmt.Sprintf(`{"name": "GW %s", "protocol": "imap", "host": "127.0.0.1", "port": 9, "security": "implicit",
				"login": "l", "password": "p", "address": "gw@example.com", "department_id": %d, "paused": true}`, f.uniq, f.department.ID)
		}, staffOnly(created)},
		"GET /api/v1/mail-gateways/:id":       {gatewayPath(""), none, staffOnly(ok)},
		"PATCH /api/v1/mail-gateways/:id":     {gatewayPath(""), fixed(`{"poll_seconds": 600}`), staffOnly(ok)},
		"DELETE /api/v1/mail-gateways/:id":    {gatewayPath(""), none, staffOnly(noContent)},
		"POST /api/v1/mail-gateways/:id/test": {gatewayPath("/test"), none, staffOnly(ok)},
		"POST /api/v1/mail-gateways/:id/poll": {gatewayPath("/poll"), none, staffOnly(accepted)},
		// Tickets: staff see those of their departments only ("staff without
		// permission" is in none: 404, like client B).
		"POST /api/v1/tickets": {fixed("/api/v1/tickets"), func(f *fixture) string {
			return fmt.Sprintf(`{"customer_id": %d, "department_id": %d, "subject": "Matrix", "body": "Hello"}`, f.A.ID, f.department.ID)
		}, want{unauth, created, absent, forbid, created, created}},
		"GET /api/v1/tickets":               {fixed("/api/v1/tickets?limit=200"), none, want{unauth, ok, ok, ok, ok, ok}},
		"GET /api/v1/tickets/:id":           {ticketPath(""), none, ticketRule(ok)},
		"PATCH /api/v1/tickets/:id":         {ticketPath(""), fixed(`{"status": "closed"}`), ticketRule(ok)},
		"POST /api/v1/tickets/:id/messages": {ticketPath("/messages"), fixed(`{"body": "Hello"}`), ticketRule(created)},
	}
}

// TestAuthorizationMatrix calls every route of the router as every kind of
// caller, each in a fresh world, and checks the exact status and that no
// customer's data reaches another customer's client.
func TestAuthorizationMatrix(t *testing.T) {
	t.Parallel()
	m := newMatrix(t)
	cells := matrixCells()
	seen := map[string]bool{}
	for _, r := range m.b.api.Routes() {
		key := r.Method + " " + r.Path
		seen[key] = true
		c, ok := cells[key]
		if !ok {
			t.Errorf("route %s is not in the authorization matrix: decide who may call it and add it to matrixCells", key)
			continue
		}
		for i, caller := range callers {
			f := m.fixture(t)
			if strings.HasPrefix(key, "GET /api/v1/subscriptions") || strings.Contains(key, "/subscriptions/:id") {
				f.subA = m.subscription(t, f) // these routes act on a running subscription of A
			}
			if strings.Contains(key, "/tasks") || strings.Contains(key, "/attachments/") {
				m.tasksSupport(t, f)
			}
			if strings.Contains(key, "/mail-gateways/:id") {
				in := closedGateway(f.department.ID, "Matrix "+f.uniq)
				in.Paused = ptr(!strings.HasSuffix(key, "/poll")) // a paused gateway is not polled now
				f.gatewayID = m.b.gateway(in).ID
			}
			if strings.Contains(key, "/incoming-emails/:id") {
				from := "unknown" + f.uniq + "@mail.example"
				f.incomingEmail = insertIncoming(t, m.b.store, f.department.ID, from, billing.IncomingUnknownSender,
					incomingMail(from, f.uniq+"@mail.example"))
			}
			if strings.Contains(key, "/messages/:id") {
				msg, err := m.b.store.CreateMessage(t.Context(), billing.MessageCreate{CustomerID: &f.A.ID, Category: "info",
					Subject: "Matrix", Text: "Hello"}, 10, nil)
				require.NoError(t, err)
				f.messageA = msg.ID
			}
			if strings.Contains(key, "/message-texts/:id") {
				text, err := m.b.store.CreateMessageText(t.Context(), billing.MessageTextInput{Name: "Matrix " + f.uniq,
					Category: "info", Subject: "Matrix", Text: "Hello"})
				require.NoError(t, err)
				f.textID = text.ID
			}
			if strings.Contains(key, "/predefined-replies/:id") {
				reply, err := m.b.store.CreatePredefinedReply(t.Context(), billing.PredefinedReply{Name: "Matrix " + f.uniq, Body: "Hello"})
				require.NoError(t, err)
				f.replyID = reply.ID
			}
			if strings.Contains(key, "/tickets/:id/predefined-replies") {
				d := m.b.replyDepartment("Matrix")
				f.replyTicketA = ticketFor(t, m.b.store, f.A.ID, d.ID, f.userA.ID, "Matrix "+f.markerA)
			}
			status, raw := m.b.raw(f.tokens[i], r.Method, c.path(f), c.body(f))
			if status != c.want[i] {
				t.Errorf("%s as %s: status %d, want %d; body %.300s", key, caller, status, c.want[i], raw)
			}
			leak := func(what string) {
				t.Errorf("%s as %s: the answer shows %s", key, caller, what)
			}
			if key == "POST /api/v1/auth/login" {
				continue // the credentials in the body, not the caller's token, decide whose data comes back
			}
			switch caller {
			case "client A":
				if strings.Contains(raw, f.markerB) {
					leak("customer B's data")
				}
			case "client B":
				if strings.Contains(raw, f.markerA) || regexp.MustCompile(`"customer_id":\s*`+fmt.Sprint(f.A.ID)+`\b`).MatchString(raw) {
					leak("customer A's data")
				}
			case "staff without permission":
				// In no support department and without customers.read: A's
				// tickets (their subjects carry A's marker), their files and
				// A's data reach them by no route.
				if strings.Contains(raw, f.markerA) {
					leak("customer A's data or tickets")
				}
			}
			if (caller == "client A" || caller == "client B") && key != "GET /api/v1/openapi.json" && strings.Contains(raw, `"attitude"`) {
				leak("the staff-only attitude")
			}
			if (caller == "client A" || caller == "client B") && key != "GET /api/v1/openapi.json" &&
				regexp.MustCompile(`"(webhook_url|webhook_secret\w*|steps|payment_states)"`).MatchString(raw) {
				leak("a product's staff-only settings (webhook, steps, notice texts)")
			}
		}
	}
	for key := range cells {
		require.True(t, seen[key], "the matrix lists %s, which is not a route", key)
	}
}

// raw sends a request and returns the status and body as text.
func (b *bundle) raw(token, method, path, body string) (int, string) {
	b.t.Helper()
	status, out := b.doAs(token, method, path, body)
	return status, strings.TrimSpace(mustJSON(out))
}
