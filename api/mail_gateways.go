package api

import (
	"context"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/activities"
	"github.com/tempobill/billing/mailgateway/fetch"
	"github.com/tempobill/billing/workflows"
)

// mailGatewayView is a gateway as the API shows it: never its password;
// with a note on what its settings mean, and the reason its poll schedule
// could not be set if Temporal was away (the worker sets it when it starts,
// the API within a minute).
type mailGatewayView struct {
	billing.MailGateway
	Note          string `json:"note,omitempty"`
	ScheduleError string `json:"schedule_error,omitempty"`
}

// connectionTestTimeout bounds "test connection": a server that doesn't
// answer is reported, not waited on.
const connectionTestTimeout = 20 * time.Second

func (s *Server) listMailGateways(c echo.Context) error {
	list, err := s.store.MailGateways(c.Request().Context())
	if err != nil {
		return err
	}
	items := make([]mailGatewayView, len(list))
	for i, g := range list {
		items[i] = mailGatewayView{MailGateway: g, Note: g.Note()}
	}
	return c.JSON(http.StatusOK, map[string]any{"items": items})
}

func (s *Server) createMailGateway(c echo.Context) error {
	var in billing.MailGatewayInput
	if err := bind(c, &in); err != nil {
		return err
	}
	g, err := s.store.CreateMailGateway(c.Request().Context(), in, s.mailGatewayKey)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, s.syncGatewaySchedule(c.Request().Context(), g))
}

func (s *Server) getMailGateway(c echo.Context) error {
	id, err := pathID(c, "id", "mail gateway")
	if err != nil {
		return err
	}
	g, err := s.store.MailGateway(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, mailGatewayView{MailGateway: g, Note: g.Note()})
}

func (s *Server) updateMailGateway(c echo.Context) error {
	id, err := pathID(c, "id", "mail gateway")
	if err != nil {
		return err
	}
	var in billing.MailGatewayInput
	if err := bind(c, &in); err != nil {
		return err
	}
	g, err := s.store.UpdateMailGateway(c.Request().Context(), id, in, s.mailGatewayKey)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, s.syncGatewaySchedule(c.Request().Context(), g))
}

func (s *Server) deleteMailGateway(c echo.Context) error {
	id, err := pathID(c, "id", "mail gateway")
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	if err := s.store.DeleteMailGateway(ctx, id); err != nil {
		return err
	}
	if err := workflows.DeleteMailGatewaySchedule(ctx, s.temporal, id); err != nil {
		// The gateway is gone; its orphaned schedule is deleted when the
		// worker starts, and its runs find no gateway and do nothing.
		s.log.Warn("mail gateway: schedule not deleted yet", "gateway", id, "err", err)
		s.gatewaysDirty.Store(true)
	}
	return c.NoContent(http.StatusNoContent)
}

// testMailGatewayInput is the body of "test connection": a password to try
// instead of the stored one.
type testMailGatewayInput struct {
	Password *string `json:"password"`
}

// testMailGateway is "test connection": it logs in with the gateway's
// settings and answers the server's own words on failure.
func (s *Server) testMailGateway(c echo.Context) error {
	id, err := pathID(c, "id", "mail gateway")
	if err != nil {
		return err
	}
	var in testMailGatewayInput
	if err := bind(c, &in); err != nil {
		return err
	}
	ctx := c.Request().Context()
	var g billing.MailGateway
	if in.Password != nil {
		var v billing.Validator
		v.Check(*in.Password != "", "password", "must not be empty; leave it out to test the stored password")
		if err := v.Err(); err != nil {
			return err
		}
		if g, err = s.store.MailGateway(ctx, id); err != nil {
			return err
		}
		g.Password = *in.Password
	} else if g, err = s.store.MailGatewayWithPassword(ctx, id, s.mailGatewayKey); err != nil {
		return err
	}
	tctx, cancel := context.WithTimeout(ctx, connectionTestTimeout)
	defer cancel()
	if err := fetch.Test(tctx, activities.GatewayMailbox(g, s.mailGatewayTLS)); err != nil {
		return c.JSON(http.StatusOK, map[string]any{"ok": false, "error": err.Error()})
	}
	return c.JSON(http.StatusOK, map[string]any{"ok": true})
}

// pollMailGateway starts a poll of the gateway now ("poll now"); it answers
// once Temporal has it, not when the mail is read: see last_poll_at.
func (s *Server) pollMailGateway(c echo.Context) error {
	id, err := pathID(c, "id", "mail gateway")
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	g, err := s.store.MailGateway(ctx, id)
	if err != nil {
		return err
	}
	if g.Paused {
		return billing.Errorf(billing.ECONFLICT, "mail gateway %d is paused; resume it (PATCH paused: false) to poll it", id)
	}
	if err := workflows.TriggerMailGatewayPoll(ctx, s.temporal, s.taskQueue, g); err != nil {
		s.log.Warn("mail gateway: poll not started", "gateway", id, "err", err)
		return billing.Errorf(billing.EUNAVAILABLE, "the poll could not be started: Temporal is not reachable; try again shortly")
	}
	return c.JSON(http.StatusAccepted, map[string]any{"polling": true})
}

// syncGatewaySchedule makes g's schedule match it after a write. Temporal
// being away doesn't undo the write: the answer says so, and the
// reconciler and the worker's start set the schedule later.
func (s *Server) syncGatewaySchedule(ctx context.Context, g billing.MailGateway) mailGatewayView {
	view := mailGatewayView{MailGateway: g, Note: g.Note()}
	if err := workflows.SyncMailGatewaySchedule(ctx, s.temporal, s.taskQueue, g); err != nil {
		s.log.Warn("mail gateway: schedule not set yet", "gateway", g.ID, "err", err)
		s.gatewaysDirty.Store(true)
		view.ScheduleError = "the gateway is saved, but its poll schedule could not be set (Temporal is not reachable); it is set once Temporal is back"
	}
	return view
}

// syncGatewaySchedules sets every gateway's schedule again after an API
// write could not (see syncGatewaySchedule).
func (s *Server) syncGatewaySchedules(ctx context.Context) {
	if !s.gatewaysDirty.Swap(false) {
		return
	}
	gws, err := s.store.MailGateways(ctx)
	if err == nil {
		err = workflows.SyncMailGatewaySchedules(ctx, s.temporal, s.taskQueue, gws, s.store.MailGatewayExists)
	}
	if err != nil {
		s.gatewaysDirty.Store(true)
		if ctx.Err() == nil {
			s.log.Warn("mail gateway schedules not set yet", "err", err)
		}
	}
}
