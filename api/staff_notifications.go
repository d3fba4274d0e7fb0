package api

import (
	"context"
	"net/http"
	"slices"

	"github.com/labstack/echo/v4"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/activities"
	"github.com/tempobill/billing/notices"
	"github.com/tempobill/billing/store"
)

// staffNotificationSettings lists whether staff member :id receives each
// staff event (seed 000 "Email notifications for staff members"). The
// member reads their own; others need staff.manage.
func (s *Server) staffNotificationSettings(c echo.Context) error {
	id, err := pathID(c, "id", "staff member")
	if err != nil {
		return err
	}
	if p := principalOf(c); id != p.StaffID {
		if err := requireStaff(p, billing.PermStaffManage); err != nil {
			return err
		}
	}
	return s.writeStaffNotificationSettings(c, id)
}

// setStaffNotificationSettings replaces staff member :id's settings: the
// events named are on or off as given, the others on. The member changes
// their own; others need staff.manage and may change only whom they may
// change (billing.Principal.MayChangeStaff: not an admin unless they are
// one, not a member with rights they don't hold).
func (s *Server) setStaffNotificationSettings(c echo.Context) error {
	id, err := pathID(c, "id", "staff member")
	if err != nil {
		return err
	}
	var in billing.StaffNotificationSettingsInput
	if err := bind(c, &in); err != nil {
		return err
	}
	ctx := c.Request().Context()
	p := principalOf(c)
	if id != p.StaffID {
		if err := requireStaff(p, billing.PermStaffManage); err != nil {
			return err
		}
	}
	target, err := s.store.StaffMember(ctx, id)
	if err != nil {
		return err
	}
	if err := p.MayChangeStaff(target, billing.StaffUpdate{}); err != nil {
		return err
	}
	if in.Events == nil {
		return &billing.Error{Code: billing.EINVALID, Message: "name the events to turn on or off; see fields",
			Fields: map[string]string{"events": `is required: an object such as {"ticket_client_post": false}; {} turns every event on`}}
	}
	var v billing.Validator
	all := map[string]bool{}
	for _, e := range notices.StaffEvents() {
		all[e.Name] = true
	}
	for name, on := range in.Events {
		v.Check(all[name], "events."+name, "is not a staff event; they are "+staffEventNames())
		all[name] = on
	}
	if err := v.Err(); err != nil {
		return err
	}
	if err := s.store.SetStaffNotifications(ctx, id, all); err != nil {
		return err
	}
	return s.writeStaffNotificationSettings(c, id)
}

// writeStaffNotificationSettings answers with staff member id's settings.
func (s *Server) writeStaffNotificationSettings(c echo.Context, id int64) error {
	ctx := c.Request().Context()
	if _, err := s.store.StaffMember(ctx, id); err != nil {
		return err
	}
	off, err := s.store.StaffNotificationsOff(ctx, id)
	if err != nil {
		return err
	}
	items := []billing.StaffNotificationSetting{}
	for _, e := range notices.StaffEvents() {
		items = append(items, billing.StaffNotificationSetting{Event: e.Name, Title: e.Title, Enabled: !off[e.Name]})
	}
	return c.JSON(http.StatusOK, map[string]any{"items": items})
}

// staffEventNames lists the staff events' names.
func staffEventNames() string {
	var names []string
	for _, e := range notices.StaffEvents() {
		names = append(names, e.Name)
	}
	slices.Sort(names)
	out := ""
	for i, n := range names {
		if i > 0 {
			out += ", "
		}
		out += n
	}
	return out
}

// queueTicketNotices queues n's notices in st (the request's transaction)
// with the panel's address and the sender's domain filled in: what the
// ticket handlers call rather than activities.QueueTicketNotices itself.
func (s *Server) queueTicketNotices(ctx context.Context, st *store.Store, n activities.TicketNotice) error {
	n.PanelURL, n.MailFrom = s.publicURL, s.mailFrom
	return activities.QueueTicketNotices(ctx, st, n, s.defaults.DefaultLanguage)
}

// queueTaskCreated queues the task_created notices of t in st (the
// request's transaction).
func (s *Server) queueTaskCreated(ctx context.Context, st *store.Store, t billing.Task) error {
	return activities.QueueTaskCreated(ctx, st, t, s.defaults.DefaultLanguage)
}
