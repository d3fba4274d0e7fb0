package api

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/tempobill/billing"
)

// getAttachment answers a file of a ticket's message to those who may see
// the ticket: a client of its customer (never a file of an internal note)
// and staff who are members of its department (admins: all); others get
// 404, as if it did not exist. The file is sent as a download that the
// browser neither sniffs nor renders with the API's origin rights.
func (s *Server) getAttachment(c echo.Context) error {
	ticketID, err := pathID(c, "id", "ticket")
	if err != nil {
		return err
	}
	id, err := pathID(c, "attachment_id", "attachment")
	if err != nil {
		return err
	}
	a, err := s.store.Attachment(c.Request().Context(), ticketID, id)
	if err != nil {
		return err
	}
	p := principalOf(c)
	visible := p.SeesDepartment(a.DepartmentID)
	if p.IsClient() {
		visible = a.CustomerID == p.CustomerID && a.MessageKind != billing.MessageNote
	}
	if !visible {
		return billing.NotFound("attachment", id)
	}
	h := c.Response().Header()
	h.Set(echo.HeaderContentDisposition, contentDisposition(a.Name))
	h.Set(echo.HeaderXContentTypeOptions, "nosniff")
	h.Set(echo.HeaderContentSecurityPolicy, "sandbox")
	h.Set(echo.HeaderContentLength, strconv.Itoa(len(a.Content)))
	return c.Blob(http.StatusOK, a.ContentType, a.Content)
}

// contentDisposition makes a download of a file named name: an ASCII
// filename for old clients (other characters as _) and filename* with the
// UTF-8 name, percent-encoded (RFC 6266, RFC 8187).
func contentDisposition(name string) string {
	var ascii, utf strings.Builder
	for _, r := range name {
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' {
			ascii.WriteByte('_')
		} else {
			ascii.WriteRune(r)
		}
	}
	for _, b := range []byte(name) {
		if 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9' || strings.IndexByte("!#$&+-.^_`|~", b) >= 0 {
			utf.WriteByte(b)
		} else {
			fmt.Fprintf(&utf, "%%%02X", b)
		}
	}
	return `attachment; filename="` + ascii.String() + `"; filename*=UTF-8''` + utf.String()
}
