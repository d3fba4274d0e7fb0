package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/tempobill/billing"
)

func (s *Server) listAudit(c echo.Context) error {
	q := query{c: c}
	f := billing.AuditFilter{
		ActorKind:   q.oneOf("actor_kind", billing.ActorAnonymous, billing.ActorStaff, billing.ActorClient, billing.ActorAPIKey, billing.ActorImpersonation, billing.ActorSystem),
		StaffID:     q.id("staff_id"),
		CustomerID:  q.id("customer_id"),
		Action:      q.text("action", 100),
		ObjectType:  q.text("object_type", 100),
		ObjectID:    q.text("object_id", 100),
		Since:       q.time("since"),
		Until:       q.time("until"),
		PageRequest: q.page(),
	}
	if err := q.v.Err(); err != nil {
		return err
	}
	page, err := s.store.AuditEntries(c.Request().Context(), f)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, page)
}
