package billing

import "time"

// Notice is the record of one message sent (or tried) to one recipient: a
// row of the notification log.
type Notice struct {
	ID             int64  `json:"id"`
	SubscriptionID *int64 `json:"subscription_id"`
	// CustomerID is the customer whose user it went to; nil for a staff
	// notice (StaffID), which no client ever lists.
	CustomerID *int64 `json:"customer_id"`
	// StaffID is the staff member a staff notice (the support center's) went to.
	StaffID *int64 `json:"staff_id"`
	Period  int    `json:"period"`
	// Event is what the message is about (notices.Events); Milestone repeats
	// it for the clients of /subscriptions/{id}/notices.
	Event     string `json:"event"`
	Milestone string `json:"milestone"`
	// ObjectType and ObjectID name the object it is about: a subscription, a
	// customer, a payment, a message...
	ObjectType        string `json:"object_type"`
	ObjectID          string `json:"object_id"`
	Channel           string `json:"channel"`
	Recipient         string `json:"recipient"`
	Language          string `json:"language"`
	Template          string `json:"template"`
	Subject           string `json:"subject"`
	Status            string `json:"status"`
	ProviderMessageID string `json:"provider_message_id"`
	Error             string `json:"error"`
	Attempts          int    `json:"attempts"`
	// RetryUntil is how long a notice that failed is sent again: until the
	// moment it is about (a renewal, a deletion), else a day.
	RetryUntil *time.Time `json:"retry_until"`
	CreatedAt  time.Time  `json:"created_at"`
	// ResendOf is the notice this one sends again, at staff's request.
	ResendOf *int64 `json:"resend_of"`
	// Key, Body, HTMLBody, SenderName and ReplyTo are kept to send it again
	// (with the same Message-ID, made from Key); not shown.
	Key        string `json:"-"`
	Body       string `json:"-"`
	HTMLBody   string `json:"-"`
	SenderName string `json:"-"`
	ReplyTo    string `json:"-"`
	// MessageID, InReplyTo and References are the threading headers of a
	// mail about a ticket (activities.TicketThread), sent again as they
	// were; "" for other notices (their Message-ID is made from Key).
	MessageID  string `json:"-"`
	InReplyTo  string `json:"-"`
	References string `json:"-"`
}

// Notice channels and statuses (the README's "Notices" says what each means).
const (
	ChannelEmail = "email"
	ChannelSMS   = "sms"
	// NoticeQueued: waiting for its first attempt (a resend, an event queued
	// outside a workflow): the redelivery sends it.
	NoticeQueued = "queued"
	// NoticeSending: claimed by an attempt that has not recorded its outcome
	// yet; one that stays so (a crashed worker) is treated as unknown.
	NoticeSending = "sending"
	// NoticeSent: the server took it (250 after DATA; Twilio created it).
	NoticeSent = "sent"
	// NoticeFailed: not taken (refused connection, 4xx, no time left): sent
	// again until its retry horizon.
	NoticeFailed = "failed"
	// NoticeUnknown: the connection was lost after the whole message went
	// out: an email is sent again with the same Message-ID; an SMS is not
	// (Twilio can't deduplicate), it stays unknown.
	NoticeUnknown = "unknown"
	// NoticeRejected: refused for good (5xx, an invalid number): not sent again.
	NoticeRejected = "rejected"
	// NoticeExpired: not delivered before its moment passed: not sent late.
	NoticeExpired = "expired"
)

// NoticeResendable reports whether staff may resend a notice of status on
// channel: it was not delivered (failed, expired, rejected), or nobody
// knows (unknown) and it is an email, which goes again with its Message-ID.
// An SMS whose outcome is unknown may have arrived: it is never sent twice.
func NoticeResendable(status, channel string) bool {
	switch status {
	case NoticeFailed, NoticeExpired, NoticeRejected:
		return true
	case NoticeUnknown:
		return channel != ChannelSMS
	}
	return false
}

// NotResendable is the conflict of a resend refused by NoticeResendable.
func NotResendable(id int64, status, channel string) error {
	if status == NoticeUnknown && channel == ChannelSMS {
		return Errorf(ECONFLICT, "notification %d is an SMS whose outcome is unknown: it may have arrived, and an SMS is never sent twice", id)
	}
	return Errorf(ECONFLICT, "notification %d is %s: only a failed, expired, rejected or unknown one (an email) is resent", id, status)
}

// NoticeTemplate is the text of a service notice (activated, renewed, ...).
// Built-in defaults exist for each; staff can replace them.
type NoticeTemplate struct {
	Milestone string `json:"milestone"`
	Subject   string `json:"subject"`
	Body      string `json:"body"`
	SMSBody   string `json:"sms_body"`
	Custom    bool   `json:"custom"` // false: the built-in default
}

// Validate reports every invalid field of t.
func (t *NoticeTemplate) Validate() error {
	var v Validator
	v.Text("subject", t.Subject, 300)
	v.LongText("body", t.Body, 20000)
	v.Check(t.Body != "", "body", "is required")
	v.LongText("sms_body", t.SMSBody, 1600)
	return v.Err()
}
