package api_test

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/store"
)

// newMessage inserts a message of kind into ticket ticketID with SQL and
// attaches files through the store's seam; it returns the stored files.
func (b *bundle) newMessage(ticketID int64, kind string, staffID int64, files ...billing.AttachmentUpload) []billing.TicketAttachment {
	b.t.Helper()
	var author *int64
	if staffID != 0 {
		author = &staffID
	}
	var id int64
	require.NoError(b.t, b.store.Pool().QueryRow(b.t.Context(), `INSERT INTO ticket_messages (ticket_id, kind, author_staff_id, body)
		VALUES ($1, $2, $3, 'See the file') RETURNING id`, ticketID, kind, author).Scan(&id))
	got, err := b.store.AddAttachments(b.t.Context(), ticketID, id, files)
	require.NoError(b.t, err)
	return got
}

// TestAttachmentServed: a file comes back byte for byte (its SHA-256 is the
// one stored) as a sandboxed download with its UTF-8 name, to the ticket's
// client and to the staff of its department (admins too). A note's file
// never reaches the client; another customer's client and staff of another
// department get 404, as for a file that does not exist.
func TestAttachmentServed(t *testing.T) {
	t.Parallel()
	b := setup(t)
	team := b.supportTeam()
	cid, _ := b.newCustomer()
	otherCID, _ := b.newCustomer()
	ticket := b.newTicket(cid, team.technical.ID)
	content := []byte("%PDF-1.7\n1 0 obj\n<<>>\nendobj\n\xe2\x82\xac binary \x00\x01\x02\n%%EOF\n")
	sum := sha256.Sum256(content)
	clientFile := b.newMessage(ticket, billing.MessageFromClient, 0,
		billing.AttachmentUpload{Name: "Rechnung März \"final\".pdf", ContentType: "application/pdf", Content: content})[0]
	require.Equal(t, hex.EncodeToString(sum[:]), clientFile.SHA256)
	noteFile := b.newMessage(ticket, billing.MessageNote, team.john.ID,
		billing.AttachmentUpload{Name: "internal.txt", Content: []byte("root password hint")})[0]
	path := func(a billing.TicketAttachment) string {
		return fmt.Sprintf("/api/v1/tickets/%d/attachments/%d", a.TicketID, a.ID)
	}

	res, raw := b.send(b.clientOf(cid), "GET", path(clientFile), "", nil)
	require.Equal(t, http.StatusOK, res.StatusCode, "%s", raw)
	got := sha256.Sum256(raw)
	require.Equal(t, clientFile.SHA256, hex.EncodeToString(got[:]), "the bytes uploaded")
	require.Equal(t, "application/pdf", res.Header.Get("Content-Type"))
	require.Equal(t, `attachment; filename="Rechnung M_rz _final_.pdf"; filename*=UTF-8''Rechnung%20M%C3%A4rz%20%22final%22.pdf`,
		res.Header.Get("Content-Disposition"))
	require.Equal(t, "nosniff", res.Header.Get("X-Content-Type-Options"))
	require.Equal(t, "sandbox", res.Header.Get("Content-Security-Policy"))

	sam := b.staffSessionIn(team.sales.ID) // sales only
	for _, tc := range []struct {
		who, token string
		file       billing.TicketAttachment
		status     int
	}{
		{"the client", b.clientOf(cid), noteFile, http.StatusNotFound},
		{"another customer's client", b.clientOf(otherCID), clientFile, http.StatusNotFound},
		{"another customer's client", b.clientOf(otherCID), noteFile, http.StatusNotFound},
		{"John (technical)", team.johnToken, clientFile, http.StatusOK},
		{"John (technical)", team.johnToken, noteFile, http.StatusOK},
		{"Gary (technical, sales)", team.garyToken, noteFile, http.StatusOK},
		{"Sam (sales)", sam, clientFile, http.StatusNotFound},
		{"Sam (sales)", sam, noteFile, http.StatusNotFound},
		{"staff of no department", b.staffSession(billing.RoleStaff, billing.Permissions...), clientFile, http.StatusNotFound},
		{"an admin", b.token, noteFile, http.StatusOK},
	} {
		res, raw := b.send(tc.token, "GET", path(tc.file), "", nil)
		require.Equal(t, tc.status, res.StatusCode, "%s gets %s: %s", tc.who, tc.file.Name, raw)
		if tc.status == http.StatusOK {
			require.Equal(t, tc.file.ContentType, res.Header.Get("Content-Type"))
			got := sha256.Sum256(raw)
			require.Equal(t, tc.file.SHA256, hex.EncodeToString(got[:]))
		}
	}
	otherTicket := b.newTicket(cid, team.technical.ID)
	res, raw = b.send(b.token, "GET", fmt.Sprintf("/api/v1/tickets/%d/attachments/%d", otherTicket, clientFile.ID), "", nil)
	require.Equal(t, http.StatusNotFound, res.StatusCode, "a file only under its own ticket: %s", raw)
}

// staffSessionIn returns a session of a new staff member of department dept.
func (b *bundle) staffSessionIn(dept int64) string {
	b.t.Helper()
	login := "s" + uniq()
	st, err := b.store.CreateStaff(b.t.Context(), billing.StaffCreate{Login: login, Email: login + "@staff.example",
		Role: billing.RoleStaff, Permissions: []string{}}, "no-password")
	require.NoError(b.t, err)
	require.NoError(b.t, b.store.SetStaffDepartments(b.t.Context(), st.ID, []int64{dept}))
	return b.session(store.Session{Kind: billing.ActorStaff, StaffID: st.ID})
}
