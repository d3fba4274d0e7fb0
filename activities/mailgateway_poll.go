package activities

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"

	"go.temporal.io/sdk/temporal"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/mailgateway/fetch"
)

// ErrTypeMailGatewayKey is the failure type of a poll whose gateway's
// password can't be opened (no MAIL_GATEWAY_KEY, or another key): trying
// again doesn't help.
const ErrTypeMailGatewayKey = "MailGatewayKey"

// ErrTypeMailGatewayLogin is the failure type of a poll whose server
// refused the login: not retried within the run, since two more refused
// logins a few seconds apart help nothing and are what gets an account or
// an address locked out by the mail provider (fail2ban and the like); the
// schedule's next run tries again.
const ErrTypeMailGatewayLogin = "MailGatewayLogin"

// PollMailboxInput names the gateway to read.
type PollMailboxInput struct {
	GatewayID int64
}

// PollMailboxResult counts what one poll did.
type PollMailboxResult struct {
	// Listed is how many messages the mailbox offered; Processed how many
	// ProcessMail took and were marked processed; Failed how many stay in
	// the mailbox for the next poll.
	Listed, Processed, Failed int
	// Gone: the gateway was deleted; nothing was read.
	Gone bool
}

// GatewayMailbox returns the fetch settings of gateway g (with its
// password), TLS from tlsConfig (nil: the system's roots): what the poll
// and "test connection" dial.
func GatewayMailbox(g billing.MailGateway, tlsConfig *tls.Config) fetch.Mailbox {
	after := fetch.MarkSeen
	if g.AfterProcessing == billing.AfterProcessingDelete {
		after = fetch.Delete
	}
	return fetch.Mailbox{Protocol: fetch.Protocol(g.Protocol), Host: g.Host, Port: g.Port, Security: fetch.Security(g.Security),
		Login: g.Login, Password: g.Password, AfterProcessing: after, TLSConfig: tlsConfig}
}

// PollMailbox reads a gateway's mailbox once: for each message it fetches
// it (up to the gateway's MaxMessageBytes), hands it to ProcessMail and
// marks it processed on the server only after ProcessMail returned without
// error. A message that fails stays for the next poll and doesn't stop the
// others. The outcome goes on the gateway (last_poll_at, last_error); a
// server that can't be reached or refuses the login fails the attempt.
func (a *Activities) PollMailbox(ctx context.Context, in PollMailboxInput) (res PollMailboxResult, err error) {
	g, err := a.Store.MailGatewayWithPassword(ctx, in.GatewayID, a.MailGatewayKey)
	switch code := billing.ErrorCode(err); {
	case code == billing.ENOTFOUND:
		return PollMailboxResult{Gone: true}, nil
	case code == billing.ECONFLICT || code == billing.EUNAVAILABLE:
		msg := billing.ErrorMessage(err)
		a.recordPoll(ctx, in.GatewayID, msg)
		return res, temporal.NewNonRetryableApplicationError(msg, ErrTypeMailGatewayKey, nil)
	case err != nil:
		return res, err
	}
	defer func() {
		msg := ""
		if err != nil {
			msg = err.Error()
		} else if res.Failed > 0 {
			msg = fmt.Sprintf("%d of %d messages could not be processed; they stay in the mailbox for the next poll", res.Failed, res.Listed)
		}
		a.recordPoll(ctx, g.ID, msg)
	}()
	stop := heartbeat(ctx)
	defer stop()
	c, err := fetch.Dial(ctx, GatewayMailbox(g, a.MailGatewayTLS))
	if errors.Is(err, fetch.ErrAuth) {
		return res, temporal.NewNonRetryableApplicationError("the mail server refused the login", ErrTypeMailGatewayLogin, err)
	}
	if err != nil {
		return res, err
	}
	msgs, err := c.List(ctx)
	if err != nil {
		c.Close()
		return res, err
	}
	res.Listed = len(msgs)
	process := a.ProcessMail
	if a.MailProcessor != nil {
		process = a.MailProcessor
	}
	for _, m := range msgs {
		if ctx.Err() != nil {
			break
		}
		ok, err := a.pollOne(ctx, c, g, m, process)
		if err != nil {
			a.log().Warn("mail gateway: a message stays in the mailbox", "gateway", g.ID, "mailbox_id", m.ID, "err", err)
		}
		if ok {
			res.Processed++
		} else {
			res.Failed++
		}
		var broken *brokenSession
		if errors.As(err, &broken) {
			// The session can't go on; what is left waits for the next poll.
			res.Failed += len(msgs) - res.Processed - res.Failed
			c.Close()
			return res, broken.err
		}
	}
	if err := c.Close(); err != nil {
		// POP3 deletes only on QUIT: a failed QUIT leaves the mail there, and
		// mail_intake keeps the next poll from taking it twice.
		return res, fmt.Errorf("closing the mailbox: %w", err)
	}
	return res, ctx.Err()
}

// brokenSession wraps an error after which the mailbox session can't be
// used any more (a network error).
type brokenSession struct{ err error }

func (e *brokenSession) Error() string { return e.err.Error() }
func (e *brokenSession) Unwrap() error { return e.err }

// pollOne takes one message: fetched, processed, then marked.
func (a *Activities) pollOne(ctx context.Context, c fetch.Client, g billing.MailGateway, m fetch.Message,
	process func(context.Context, ProcessMailInput) (ProcessMailResult, error)) (bool, error) {
	in := ProcessMailInput{Gateway: g, MailboxID: m.ID}
	in.Gateway.Password = "" // ProcessMail has no use for it
	raw, err := c.Fetch(ctx, m.ID, g.MaxMessageBytes)
	var tooLarge *fetch.TooLargeError
	switch {
	case errors.As(err, &tooLarge):
		in.TooLargeBytes = max(tooLarge.Size, g.MaxMessageBytes+1)
	case errors.Is(err, fetch.ErrNotFound):
		return false, err // gone meanwhile (another client took it)
	case err != nil:
		return false, sessionBroken(ctx, err)
	default:
		in.Raw = raw
	}
	if _, err := process(ctx, in); err != nil {
		return false, fmt.Errorf("processing: %w", err)
	}
	if err := c.MarkProcessed(ctx, m.ID); err != nil {
		// Processed and recorded in mail_intake: the next poll skips it.
		return true, sessionBroken(ctx, fmt.Errorf("marking processed: %w", err))
	}
	return true, nil
}

// recordPoll notes the poll's outcome on the gateway; a failure to note it
// is logged, not the poll's error.
func (a *Activities) recordPoll(ctx context.Context, id int64, lastError string) {
	if err := a.Store.RecordMailGatewayPoll(context.WithoutCancel(ctx), id, lastError); err != nil {
		a.log().Error("mail gateway: recording the poll", "gateway", id, "err", err)
	}
}

// sessionBroken says whether err leaves the mailbox session unusable: a
// network error or an interrupted exchange, rather than the server's "no"
// to one message.
func sessionBroken(ctx context.Context, err error) error {
	var ne net.Error
	if ctx.Err() != nil || errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, net.ErrClosed) {
		return &brokenSession{err}
	}
	return err
}

func (a *Activities) log() *slog.Logger {
	if a.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return a.Log
}
