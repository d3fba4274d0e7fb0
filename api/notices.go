package api

import (
	"cmp"
	"maps"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/notices"
)

// catalog reads staff's message templates.
func (s *Server) catalog(c echo.Context) (notices.Catalog, error) {
	ts, err := s.store.MessageTemplates(c.Request().Context())
	if err != nil {
		return notices.Catalog{}, err
	}
	cat := notices.Catalog{Custom: map[notices.TemplateKey]billing.MessageTemplate{}}
	for _, t := range ts {
		cat.Custom[notices.Key(t)] = t
	}
	return cat, nil
}

// listNotificationEvents lists every event with its audience, channels and variables.
func (s *Server) listNotificationEvents(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]any{"items": notices.Events()})
}

// listMessageTemplates lists the templates in use: staff's, and the
// built-in ones staff did not replace.
func (s *Server) listMessageTemplates(c echo.Context) error {
	q := query{c: c}
	event, channel := q.text("event", 100), q.oneOf("channel", billing.ChannelEmail, billing.ChannelSMS)
	lang := q.text("language", 35)
	if err := q.v.Err(); err != nil {
		return err
	}
	cat, err := s.catalog(c)
	if err != nil {
		return err
	}
	all := maps.Clone(cat.Custom)
	for _, t := range notices.Defaults() {
		if _, ok := all[notices.Key(t)]; !ok {
			all[notices.Key(t)] = t
		}
	}
	items := []billing.MessageTemplate{}
	for k, t := range all {
		if (event == "" || k.Event == event) && (channel == "" || k.Channel == channel) && (lang == "" || k.Language == lang) {
			t.Custom = cat.Custom[k].Event != ""
			items = append(items, t)
		}
	}
	notices.SortTemplates(items)
	return c.JSON(http.StatusOK, map[string]any{"items": items})
}

// templateKey reads the template's key from the path: an unknown event or
// channel is not found.
func templateKey(c echo.Context) (notices.TemplateKey, notices.Event, error) {
	k := notices.TemplateKey{Event: c.Param("event"), Channel: c.Param("channel"), Language: c.Param("language")}
	e, err := notices.Lookup(k.Event)
	if err != nil {
		return k, e, err
	}
	if k.Channel != billing.ChannelEmail && k.Channel != billing.ChannelSMS {
		return k, e, billing.Errorf(billing.ENOTFOUND, "no channel %q: email or sms", k.Channel)
	}
	return k, e, nil
}

func (s *Server) getMessageTemplate(c echo.Context) error {
	k, _, err := templateKey(c)
	if err != nil {
		return err
	}
	cat, err := s.catalog(c)
	if err != nil {
		return err
	}
	t, ok := cat.Effective(k)
	if !ok {
		return billing.Errorf(billing.ENOTFOUND, "no %s template of %s in %q", k.Channel, k.Event, k.Language)
	}
	return c.JSON(http.StatusOK, t)
}

// MessageTemplateInput is the body of PUT /message-templates/{event}/{channel}/{language}.
type MessageTemplateInput struct {
	Subject    string `json:"subject"`
	Body       string `json:"body"`
	HTMLBody   string `json:"html_body"`
	SenderName string `json:"sender_name"`
	ReplyTo    string `json:"reply_to"`
}

func (s *Server) setMessageTemplate(c echo.Context) error {
	k, _, err := templateKey(c)
	if err != nil {
		return err
	}
	var in MessageTemplateInput
	if err := bind(c, &in); err != nil {
		return err
	}
	t := billing.MessageTemplate{Event: k.Event, Channel: k.Channel, Language: k.Language, Subject: in.Subject,
		Body: in.Body, HTMLBody: in.HTMLBody, SenderName: in.SenderName, ReplyTo: in.ReplyTo}
	if err := notices.CheckTemplate(t); err != nil {
		return err
	}
	if err := s.store.SetMessageTemplates(c.Request().Context(), t); err != nil {
		return err
	}
	t.Custom = true
	return c.JSON(http.StatusOK, t)
}

func (s *Server) deleteMessageTemplate(c echo.Context) error {
	k, _, err := templateKey(c)
	if err != nil {
		return err
	}
	if _, err := s.store.DeleteMessageTemplates(c.Request().Context(), [3]string{k.Event, k.Channel, k.Language}); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// PreviewRequest is the body of POST /notification-events/{event}/preview.
type PreviewRequest struct {
	Channel        string `json:"channel"`
	Language       string `json:"language"`
	CustomerID     *int64 `json:"customer_id"`
	SubscriptionID *int64 `json:"subscription_id"`
	// Template, if set, is a draft to render instead of the stored one.
	Template *MessageTemplateInput `json:"template"`
}

// Preview is a rendered message.
type Preview struct {
	Event    string `json:"event"`
	Channel  string `json:"channel"`
	Language string `json:"language"`
	Template string `json:"template"`
	To       string `json:"to"`
	Subject  string `json:"subject"`
	Body     string `json:"body"`
	HTMLBody string `json:"html_body"`
	// Sample: the values are sample data, not a customer's.
	Sample bool `json:"sample"`
}

// previewEvent renders an event's template with a customer's data (their
// main user; a subscription's product, price and dates) or sample data.
func (s *Server) previewEvent(c echo.Context) error {
	ctx := c.Request().Context()
	e, err := notices.Lookup(c.Param("event"))
	if err != nil {
		return err
	}
	var in PreviewRequest
	if err := bind(c, &in); err != nil {
		return err
	}
	in.Channel = cmp.Or(in.Channel, billing.ChannelEmail)
	var v billing.Validator
	v.Check(e.Sends(in.Channel), "channel", "must be one of the event's channels: "+strings.Join(e.Channels, ", "))
	if in.Language != "" {
		v.LanguageTag("language", in.Language) // a template's form: DE would find no template (404)
	}
	v.Check(in.SubscriptionID == nil || in.CustomerID != nil, "subscription_id", "needs customer_id")
	v.Check(!e.ProductTexts || in.Template != nil, "template", "is required: a payment state's texts are the product's")
	if err := v.Err(); err != nil {
		return err
	}
	vars := maps.Clone(notices.Samples)
	user := billing.User{Login: vars["[LOGIN]"], FirstName: vars["[USER_NAME]"], LastName: vars["[USER_LASTNAME]"],
		Email: "ann@example.com", Phone: "+4915112345678", Language: notices.DefaultLanguage}
	custLang := ""
	if in.CustomerID != nil {
		if err := requireStaff(principalOf(c), billing.PermCustomersRead); err != nil {
			return err
		}
		cust, err := s.store.Customer(ctx, *in.CustomerID)
		if err != nil {
			return err
		}
		users, err := s.store.Users(ctx, cust.ID)
		if err != nil {
			return err
		}
		for _, u := range users {
			if u.Main {
				user = u
			}
		}
		custLang = cust.Language
		vars["[CUSTOMER_NAME]"] = cust.Name
		maps.Copy(vars, notices.UserValues(user))
		if in.SubscriptionID != nil {
			// Its product, price, dates and suspension reason: subscriptions.read's.
			if err := requireStaff(principalOf(c), billing.PermSubsRead); err != nil {
				return err
			}
			sub, err := s.store.Subscription(ctx, *in.SubscriptionID)
			if err != nil {
				return err
			}
			if sub.CustomerID != cust.ID {
				return billing.NotFound("subscription", sub.ID)
			}
			p, err := s.store.Product(ctx, sub.ProductID)
			if err != nil {
				return err
			}
			bal, err := s.store.Balance(ctx, cust.ID)
			if err != nil {
				return err
			}
			f := notices.Facts{User: user, Balance: billing.Money{Amount: bal.Of(p.Currency), Currency: p.Currency},
				Price: billing.Money{Amount: p.Price, Currency: p.Currency}, ProductName: p.Name, SubscriptionID: sub.ID,
				SuspendReason: sub.SuspendReason, TimeZone: cust.TimeZone}
			if sub.PaidUntil != nil {
				f.PaidUntil = *sub.PaidUntil
			}
			maps.Copy(vars, f.Values())
			if sub.PaidUntil == nil {
				delete(vars, "[PAID_UNTIL]")
				delete(vars, "[DATE_OF_PAYMENT]")
			}
		}
	}
	// Only the event's variables are filled: a template can't show others.
	for name := range vars {
		if !e.Offers(name) {
			delete(vars, name)
		}
	}
	var t billing.MessageTemplate
	if in.Template != nil {
		t = billing.MessageTemplate{Event: e.Name, Channel: in.Channel, Language: cmp.Or(in.Language, notices.DefaultLanguage),
			Subject: in.Template.Subject, Body: in.Template.Body, HTMLBody: in.Template.HTMLBody,
			SenderName: in.Template.SenderName, ReplyTo: in.Template.ReplyTo, Custom: true}
		if err := notices.CheckVariables(e, t); err != nil {
			return err
		}
	} else {
		cat, err := s.catalog(c)
		if err != nil {
			return err
		}
		settings, err := s.settings(c.Request().Context())
		if err != nil {
			return err
		}
		langs := notices.Languages(user.Language, custLang, settings.DefaultLanguage)
		if in.Language != "" {
			langs = []string{in.Language}
		}
		var ok bool
		if t, ok = cat.Find(e.Name, in.Channel, langs); !ok {
			return billing.Errorf(billing.ENOTFOUND, "the event %s has no %s template in %s", e.Name, in.Channel, strings.Join(langs, ", "))
		}
	}
	to := user.Email
	if in.Channel == billing.ChannelSMS {
		to = user.Phone
	}
	m := notices.RenderTemplate(t, to, vars)
	return c.JSON(http.StatusOK, Preview{Event: e.Name, Channel: m.Channel, Language: m.Language, Template: m.Template,
		To: m.To, Subject: m.Subject, Body: m.Body, HTMLBody: m.HTMLBody, Sample: in.CustomerID == nil})
}

// listNotifications lists the notification log; a client sees only their
// own customer's.
func (s *Server) listNotifications(c echo.Context) error {
	q := query{c: c}
	f := billing.NotificationFilter{
		CustomerID:     q.id("customer_id"),
		StaffID:        q.id("staff_id"),
		SubscriptionID: q.id("subscription_id"),
		Event:          q.text("event", 100),
		Status: q.oneOf("status", billing.NoticeQueued, billing.NoticeSending, billing.NoticeSent, billing.NoticeFailed,
			billing.NoticeUnknown, billing.NoticeRejected, billing.NoticeExpired),
		Channel:     q.oneOf("channel", billing.ChannelEmail, billing.ChannelSMS),
		Since:       q.time("since"),
		Until:       q.time("until"),
		PageRequest: q.page(),
	}
	if err := q.v.Err(); err != nil {
		return err
	}
	if err := ownCustomerFilter(c, &f.CustomerID); err != nil {
		return err
	}
	if p := principalOf(c); !p.IsClient() && p.Role != billing.RoleAdmin {
		// The notices about tickets and tasks tell their subjects: only
		// those of the caller's departments, as GET /tickets.
		f.Departments = append([]int64{}, p.DepartmentIDs...)
	}
	page, err := s.store.Notifications(c.Request().Context(), f)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, page)
}

// resendRetry is how long a resend is tried.
const resendRetry = 24 * time.Hour

// resendNotification queues a copy of a notice that was not delivered,
// linked to it; the redelivery schedule sends it within a minute.
func (s *Server) resendNotification(c echo.Context) error {
	ctx := c.Request().Context()
	id, err := pathID(c, "id", "notification")
	if err != nil {
		return err
	}
	n, err := s.store.Notice(ctx, id)
	if err != nil {
		return err
	}
	// A notice about a ticket or task of another department is not found,
	// as in GET /notifications.
	if p := principalOf(c); p.Role != billing.RoleAdmin {
		dept, ok, err := s.store.NoticeDepartment(ctx, n)
		if err != nil {
			return err
		}
		if ok && !p.SeesDepartment(dept) {
			return billing.NotFound("notification", id)
		}
	}
	if e := billing.AuditFrom(ctx); e != nil {
		var customerID int64 // 0: a staff notice
		if n.CustomerID != nil {
			customerID = *n.CustomerID
		}
		e.SetObject("notification", n.ID, customerID)
	}
	if !billing.NoticeResendable(n.Status, n.Channel) {
		return billing.NotResendable(id, n.Status, n.Channel)
	}
	if n.Body == "" {
		return billing.Errorf(billing.ECONFLICT, "notification %d was recorded without its text; it can't be sent again", id)
	}
	out, err := s.store.ResendNotice(ctx, id, resendRetry)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusAccepted, out)
}

// The /notice-templates routes: the English templates of the service
// notices, as they were before message templates (notices/legacy.go).

func (s *Server) listNoticeTemplates(c echo.Context) error {
	cat, err := s.catalog(c)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"items": cat.LegacyList(), "variables": notices.SubscriptionVariables})
}

func (s *Server) setNoticeTemplate(c echo.Context) error {
	m := c.Param("milestone")
	// An unknown milestone is a 404 whatever the body.
	var none notices.Catalog
	if _, err := none.LegacyTemplate(m); err != nil {
		return err
	}
	var in billing.NoticeTemplate
	if err := bind(c, &in); err != nil {
		return err
	}
	ts, err := notices.LegacyOverride(m, in)
	if err != nil {
		return err
	}
	if err := s.store.SetMessageTemplates(c.Request().Context(), ts...); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, billing.NoticeTemplate{Milestone: m, Subject: in.Subject, Body: in.Body, SMSBody: in.SMSBody, Custom: true})
}

func (s *Server) resetNoticeTemplate(c echo.Context) error {
	var none notices.Catalog
	t, err := none.LegacyTemplate(c.Param("milestone"))
	if err != nil {
		return err
	}
	_, err = s.store.DeleteMessageTemplates(c.Request().Context(),
		[3]string{t.Milestone, billing.ChannelEmail, notices.DefaultLanguage}, [3]string{t.Milestone, billing.ChannelSMS, notices.DefaultLanguage})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, t)
}
