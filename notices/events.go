package notices

import (
	"slices"

	"github.com/tempobill/billing"
)

// Audience rules: who of a customer (or of the staff) receives an event's
// messages.
const (
	// AudienceMainUser: the customer's main user only.
	AudienceMainUser = "main_user"
	// AudienceAllUsers: every user of the customer.
	AudienceAllUsers = "all_users"
	// AudienceDepartment: staff members of a department (the support
	// center's staff events; activities.QueueTicketNotices says who of them).
	AudienceDepartment = "department_staff"
	// AudienceMailSender: the address a mail to a gateway came from, not a
	// user (activities.QueueMailNotice queues these).
	AudienceMailSender = "mail_sender"
)

// Object types a notice can be about.
const (
	ObjectSubscription = "subscription"
	ObjectCustomer     = "customer"
	ObjectPayer        = "payer"
	ObjectMessage      = "message"
	ObjectPayment      = "payment"
	ObjectInvoice      = "invoice"
	ObjectCreditNote   = "credit_note"
	ObjectTicket       = "ticket"
	ObjectTask         = "task"
	// ObjectMailSender: a notice to the sender of a mail; its object ID is
	// the address.
	ObjectMailSender = "mail_sender"
)

// Event is something the system tells people about: its audience rule, the
// channels it goes by and the variables its texts may use.
type Event struct {
	Name  string `json:"name"`
	Title string `json:"title"`
	// Group: service, payment_state, payment, invoice, usage, account,
	// message or support.
	Group    string   `json:"group"`
	Audience string   `json:"audience"`
	Channels []string `json:"channels"`
	// Variables are the [VARIABLE]s its texts may use; saving a template
	// with another one is refused.
	Variables []string `json:"variables"`
	// ObjectType is what its notices are about.
	ObjectType string `json:"object_type"`
	// ProductTexts: a product payment state (seed 002): whether it is sent,
	// by which channel and with what text is the product's setting; it has no
	// message templates.
	ProductTexts bool `json:"product_texts"`
	// ListUnsubscribe: its emails carry a List-Unsubscribe header. Only
	// messages staff choose to send (bulk, the "message" event) do; the
	// others are about the customer's own services and account, which a
	// customer can't opt out of.
	ListUnsubscribe bool `json:"list_unsubscribe"`
}

// Offers reports whether e's texts may use the variable v ("[LOGIN]").
func (e Event) Offers(v string) bool { return slices.Contains(e.Variables, v) }

// Sends reports whether e goes by channel.
func (e Event) Sends(channel string) bool { return slices.Contains(e.Channels, channel) }

var (
	both      = []string{billing.ChannelEmail, billing.ChannelSMS}
	emailOnly = []string{billing.ChannelEmail}
	userVars  = []string{"[LOGIN]", "[USER_NAME]", "[USER_LASTNAME]"}
)

func vars(extra ...string) []string { return append(slices.Clone(userVars), extra...) }

// events is the registry, in the order the API lists it.
var events = func() []Event {
	var out []Event
	service := func(name, title string) {
		out = append(out, Event{Name: name, Title: title, Group: "service", Audience: AudienceAllUsers, Channels: both,
			Variables: SubscriptionVariables, ObjectType: ObjectSubscription})
	}
	service(billing.MilestoneActivated, "Service activated")
	service(billing.MilestoneLowMoney, "Insufficient funds for automatic renewal")
	service(billing.MilestoneExpiring, "Service is going to expire")
	service(billing.MilestoneRenewed, "Service renewed")
	service(billing.MilestoneSuspended, "Service suspended")
	service(billing.MilestoneResumed, "Service resumed")
	service(billing.MilestoneDeleteSoon, "Service will be deleted soon")
	service(billing.MilestoneDeleted, "Service deleted")
	service(billing.MilestoneCancelled, "Service cancelled")
	service(billing.MilestoneOrderExpired, "Order cancelled: not paid in time")
	// The activation text per product kind (seed 000); "activated" is the
	// text of kind "other".
	service(EventActivatedVPS, "Activation of VPS")
	service(EventActivatedSharedHosting, "Activation of shared hosting")
	service(EventActivatedLicense, "Activation of license")
	service(EventLicenseUpdatesExpiring, "License update subscription expires soon")
	out[len(out)-1].Variables = append(slices.Clone(SubscriptionVariables), "[UPDATES_UNTIL]")
	service(EventOrderParametersNeeded, "Configuration of additional parameters")
	out[len(out)-1].Variables = append(slices.Clone(SubscriptionVariables), "[PARAMETERS]")
	for _, s := range []struct{ name, title string }{{billing.StateIncoming, "Payment incoming"},
		{billing.StateApproved, "Payment approved"}, {billing.StateNonSufficientFunds, "Non-sufficient funds"},
		{billing.StateDeclined, "Payment declined"}} {
		out = append(out, Event{Name: s.name, Title: s.title, Group: "payment_state", Audience: AudienceAllUsers,
			Channels: both, Variables: SubscriptionVariables, ObjectType: ObjectSubscription, ProductTexts: true})
	}
	payment := func(name, title string, v ...string) {
		out = append(out, Event{Name: name, Title: title, Group: "payment", Audience: AudienceAllUsers, Channels: both,
			Variables: vars(append([]string{"[CUSTOMER_NAME]"}, v...)...), ObjectType: ObjectPayment})
	}
	payment(EventPaymentReceived, "New payment", "[AMOUNT]", "[CURRENCY]", "[METHOD]", "[DATE]", "[BALANCE]")
	payment(EventFundsForOrder, "Funds for order payment", "[AMOUNT]", "[ORDERS]", "[ORDERS_TOTAL]", "[BALANCE]")
	document := func(name, title, object string, v ...string) {
		out = append(out, Event{Name: name, Title: title, Group: "invoice", Audience: AudienceAllUsers, Channels: emailOnly,
			Variables: vars(append([]string{"[CUSTOMER_NAME]"}, v...)...), ObjectType: object})
	}
	document(EventInvoiceIssued, "New invoice", ObjectInvoice, "[INVOICE_NUMBER]", "[AMOUNT]", "[DATE]")
	document(EventCreditNoteIssued, "New credit note", ObjectCreditNote, "[CREDIT_NOTE_NUMBER]", "[INVOICE_NUMBER]",
		"[AMOUNT]", "[DATE]", "[REASON]")
	out = append(out, Event{Name: EventLowBalance, Title: "Low balance", Group: "payment", Audience: AudienceAllUsers,
		Channels: both, Variables: vars("[CUSTOMER_NAME]", "[BALANCE]", "[DAYS_LEFT]", "[DAILY_COST]", "[CURRENCY]"),
		ObjectType: ObjectCustomer})
	usage := func(name, title string, v ...string) {
		out = append(out, Event{Name: name, Title: title, Group: "usage", Audience: AudienceAllUsers, Channels: both,
			Variables:  vars(append([]string{"[CUSTOMER_NAME]", "[SERVICE_ID]", "[SERVICE_NAME]", "[PERIOD]"}, v...)...),
			ObjectType: ObjectSubscription})
	}
	usage(EventResourceThreshold, "Resource threshold notification", "[RESOURCE]", "[USED]", "[INCLUDED]", "[UNIT]", "[PERCENT]")
	usage(EventOverageCharged, "You have been charged for resource overage", "[AMOUNT]", "[OVERAGE]", "[BALANCE]")
	account := func(name, title, audience string, channels []string, object string, v ...string) {
		out = append(out, Event{Name: name, Title: title, Group: "account", Audience: audience, Channels: channels,
			Variables: vars(v...), ObjectType: object})
	}
	account(EventRegistration, "Registration of a new client", AudienceMainUser, both, ObjectCustomer,
		"[CUSTOMER_NAME]", "[SET_PASSWORD_URL]", "[LINK_EXPIRES]")
	account(EventEmailActivation, "Email activation", AudienceMainUser, emailOnly, ObjectCustomer,
		"[ACTIVATION_URL]", "[LINK_EXPIRES]")
	account(EventAccountVerification, "Account verification", AudienceMainUser, both, ObjectCustomer,
		"[CUSTOMER_NAME]", "[VERIFICATION_URL]", "[LINK_EXPIRES]")
	account(EventPayerVerification, "Payer verification by email", AudienceMainUser, emailOnly, ObjectPayer,
		"[PAYER_NAME]", "[VERIFICATION_URL]", "[LINK_EXPIRES]")
	account(EventClientVerificationInfo, "Additional information for client verification", AudienceAllUsers, both, ObjectPayer,
		"[CUSTOMER_NAME]", "[PAYER_NAME]", "[REQUESTED_INFO]")
	account(EventAccountDeleted, "Account deletion", AudienceMainUser, both, ObjectCustomer, "[CUSTOMER_NAME]", "[REASON]")
	account(EventAccountDeletionWarning, "Account will be deleted for inactivity", AudienceMainUser, both, ObjectCustomer,
		"[CUSTOMER_NAME]", "[DAYS]", "[DELETE_DATE]")
	out = append(out, Event{Name: EventMessage, Title: "Message from the provider", Group: "message", Audience: AudienceAllUsers,
		Channels: both, Variables: vars("[CUSTOMER_NAME]", "[MESSAGE_SUBJECT]", "[MESSAGE_TEXT]", "[CATEGORY]"),
		ObjectType: ObjectMessage, ListUnsubscribe: true})
	out = append(out, Event{Name: EventTicketReply, Title: "New message from provider", Group: "support", Audience: AudienceAllUsers,
		Channels: emailOnly, Variables: vars(append([]string{"[STAFF_NAME]"}, TicketVariables...)...), ObjectType: ObjectTicket})
	staff := func(name, title, object string, v ...string) {
		out = append(out, Event{Name: name, Title: title, Group: "support", Audience: AudienceDepartment, Channels: emailOnly,
			Variables: append([]string{"[STAFF_NAME]", "[AUTHOR]"}, v...), ObjectType: object})
	}
	staff(EventTicketAssigned, "Ticket is assigned", ObjectTicket, TicketVariables...)
	staff(EventTicketClientPost, "New post from client", ObjectTicket, TicketVariables...)
	staff(EventTicketStaffPost, "New post from provider", ObjectTicket, append(slices.Clone(TicketVariables), "[POST_KIND]")...)
	staff(EventTaskCreated, "New task", ObjectTask, "[TASK_ID]", "[TASK_TITLE]", "[TASK_DESCRIPTION]", "[TASK_DUE]",
		"[DEPARTMENT]", "[TICKET_ID]", "[CUSTOMER_NAME]")
	out = append(out, Event{Name: EventTicketFromEmail, Title: "Your email has been registered as a ticket", Group: "support",
		Audience: AudienceAllUsers, Channels: emailOnly, Variables: vars(append([]string{"[MAIL_SUBJECT]"}, TicketVariables...)...),
		ObjectType: ObjectTicket})
	sender := func(name, title string, v ...string) {
		out = append(out, Event{Name: name, Title: title, Group: "support", Audience: AudienceMailSender, Channels: emailOnly,
			Variables: append([]string{"[EMAIL]", "[MAIL_SUBJECT]", "[DEPARTMENT]"}, v...), ObjectType: ObjectMailSender})
	}
	sender(EventIncidentRequired, "A ticket by email needs an incident", "[CUSTOMER_NAME]")
	sender(EventEmailConfirmation, "Register to write to support by email", "[REGISTER_URL]")
	out = append(out, Event{Name: EventEmailConfirmed, Title: "Email confirmed", Group: "support", Audience: AudienceMailSender,
		Channels: emailOnly, Variables: []string{"[EMAIL]", "[TICKETS]"}, ObjectType: ObjectMailSender})
	sender(EventEmailNotUnique, "Your email address belongs to several clients")
	return out
}()

// The mail gateway's events (seed 003). ticket_from_email tells the user
// who wrote to a gateway that the mail became a ticket (with its number
// and threading headers). The others go to the mail's sender address, not
// to a user (AudienceMailSender): incident_required (the department takes
// tickets only against an incident, and the client has none left: no
// ticket was opened), email_confirmation (an unknown address: register
// with it), email_confirmed (the sender confirmed the address as a new user's: their waiting mails became the tickets [TICKETS]) and
// email_not_unique (the address is several clients'). Each is sent at most
// MaxAutoAnswersPerHour times an hour to one address, never to an
// auto-generated mail; queued by activities.ProcessMail and
// activities.QueueMailNotice.
const (
	EventTicketFromEmail   = "ticket_from_email"
	EventIncidentRequired  = "incident_required"
	EventEmailConfirmation = "email_confirmation"
	EventEmailConfirmed    = "email_confirmed"
	EventEmailNotUnique    = "email_not_unique"
)

// MailSenderEvents are the events that answer a mail to a gateway: the
// auto-answers the rate limit counts.
var MailSenderEvents = []string{EventTicketFromEmail, EventIncidentRequired, EventEmailConfirmation, EventEmailConfirmed,
	EventEmailNotUnique}

// The support center's events (seed 000). ticket_reply tells a customer's
// users of a staff answer ("New message from provider": the users who
// posted in the ticket, or all if none did; never of an internal note).
// The staff events go to staff members by email in the default language,
// each per their notification settings, never to the one who did it:
// ticket_assigned (a new ticket: its department's members; an assignment:
// the assignee), ticket_client_post and ticket_staff_post (a client's post,
// a staff answer or internal note: the assignee, else the department's
// members) and task_created (the task's department's members). Queued by
// activities.QueueTicketNotices and activities.QueueTaskCreated.
const (
	EventTicketReply      = "ticket_reply"
	EventTicketAssigned   = "ticket_assigned"
	EventTicketClientPost = "ticket_client_post"
	EventTicketStaffPost  = "ticket_staff_post"
	EventTaskCreated      = "task_created"
)

// TicketVariables are the variables of every notice about a ticket; with
// [STAFF_NAME]: in ticket_reply the staff member who answered, in a staff
// notice its recipient (whose [AUTHOR] is who did it). [MESSAGE_TEXT] is
// the new post ("" for an assignment without one); [POST_KIND] (in
// ticket_staff_post) says "answer" or "internal note".
var TicketVariables = []string{"[CUSTOMER_NAME]", "[TICKET_ID]", "[TICKET_SUBJECT]", "[DEPARTMENT]", "[MESSAGE_TEXT]",
	"[TICKET_URL]", "[TICKET_STATUS]"}

// StaffEvents lists the events that go to staff members: those their
// notification settings turn on and off.
func StaffEvents() []Event {
	var out []Event
	for _, e := range events {
		if e.Audience == AudienceDepartment {
			out = append(out, e)
		}
	}
	return out
}

// The usage events: resource_threshold is queued by the usage ingest that
// makes a period's use of a resource reach the setting
// resource_notify_percent of its included amount, once per subscription,
// period and resource; overage_charged is sent by the ChargeOverage activity
// with the period's overage charge, once per subscription and period.
const (
	EventResourceThreshold = "resource_threshold"
	EventOverageCharged    = "overage_charged"
)

// The account events and staff's messages: declared here, triggered by
// their features through activities.SendEvent or activities.QueueEvent.
const (
	EventRegistration           = "registration"
	EventEmailActivation        = "email_activation"
	EventAccountVerification    = "account_verification"
	EventPayerVerification      = "payer_verification"
	EventClientVerificationInfo = "client_verification_info"
	EventAccountDeleted         = "account_deleted"
	EventAccountDeletionWarning = "account_deletion_warning"
	EventMessage                = "message"
)

// The payment events: queued by POST /payments/{id}/paid with the payment
// marked paid, once per payment.
const (
	EventPaymentReceived = "payment_received"
	EventFundsForOrder   = "funds_for_order"
)

// The billing documents' events, each queued in the transaction that issues
// its document, once per document, with the document's PDF attached.
const (
	EventInvoiceIssued    = "invoice_issued"
	EventCreditNoteIssued = "credit_note_issued"
)

// EventLowBalance is queued by the transaction that makes the days a
// customer's balance lasts across their daily services fall to a lower value
// of low_money_notice_period (store.SetLowBalanceNotifier).
const EventLowBalance = "low_balance"

// The service events of issue 12's remaining seed-000 notices: the
// activation per product kind (ActivationEvent picks it), the license
// updates notice, sent by the subscription workflow before its
// updates-until date, and the notice that a paid order waits for its
// order parameters.
const (
	EventActivatedVPS           = "activated_vps"
	EventActivatedSharedHosting = "activated_shared_hosting"
	EventActivatedLicense       = "activated_license"
	EventLicenseUpdatesExpiring = billing.MilestoneLicenseUpdates
	EventOrderParametersNeeded  = billing.MilestoneParametersNeeded
)

// ActivationEvent is the event of the "activated" notice of a product of
// kind: its own text for a VPS, shared hosting or a license, else
// "activated". Staff edit each through the message-template API.
func ActivationEvent(kind string) string {
	switch kind {
	case billing.KindVPS:
		return EventActivatedVPS
	case billing.KindSharedHosting:
		return EventActivatedSharedHosting
	case billing.KindLicense:
		return EventActivatedLicense
	}
	return billing.MilestoneActivated
}

// The [REASON] of an account_deleted notice.
const (
	ReasonDeletedByStaff = "your provider deleted it"
	ReasonInactive       = "it had no services, no balance and no activity for a long time"
)

// Events lists every event.
func Events() []Event { return slices.Clone(events) }

// Lookup returns the event named name, or a not-found error listing them.
func Lookup(name string) (Event, error) {
	for _, e := range events {
		if e.Name == name {
			return e, nil
		}
	}
	names := make([]string, len(events))
	for i, e := range events {
		names[i] = e.Name
	}
	return Event{}, billing.Errorf(billing.ENOTFOUND, "no event %q; the events are %v", name, names)
}
