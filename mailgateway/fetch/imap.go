package fetch

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strconv"
	"strings"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// imapClient reads INBOX with go-imap's imapclient. Message IDs are
// "<UIDVALIDITY>:<UID>": a UID is stable only within one UIDVALIDITY, and a
// server that resets UIDVALIDITY (mailbox recreated) invalidates them all.
//
// Exactly-once: MarkSeen and Delete both take effect at once on the server
// (Delete through UID EXPUNGE, or a plain EXPUNGE on servers without
// UIDPLUS, which also removes anything else flagged \Deleted in INBOX). A
// crash between storing a message and marking it leaves it unseen, so it is
// listed again under the same ID.
type imapClient struct {
	m           Mailbox
	raw         net.Conn // the connection bound() puts context deadlines on
	c           *imapclient.Client
	uidValidity uint32
}

func dialIMAP(ctx context.Context, m Mailbox) (cl Client, err error) {
	raw, err := dial(ctx, m)
	if err != nil {
		return nil, ctxErr(ctx, err)
	}
	stop := bound(ctx, raw)
	defer stop()

	opts := &imapclient.Options{TLSConfig: m.tlsConfig()}
	var c *imapclient.Client
	if m.Security == StartTLS {
		c, err = imapclient.NewStartTLS(raw, opts)
		if err != nil {
			return nil, ctxErr(ctx, fmt.Errorf("fetch: imap STARTTLS with %s: %w", m.Addr(), err))
		}
	} else {
		c = imapclient.New(raw, opts)
	}
	defer func() {
		if err != nil {
			c.Close()
		}
	}()
	if err := c.WaitGreeting(); err != nil {
		return nil, ctxErr(ctx, fmt.Errorf("fetch: imap greeting from %s: %w", m.Addr(), err))
	}
	if err := c.Login(m.Login, m.Password).Wait(); err != nil {
		var ie *imap.Error
		if errors.As(err, &ie) {
			return nil, authError("imap", err)
		}
		return nil, ctxErr(ctx, fmt.Errorf("fetch: imap login: %w", err))
	}
	sel, err := c.Select("INBOX", nil).Wait()
	if err != nil {
		return nil, ctxErr(ctx, fmt.Errorf("fetch: imap select INBOX: %w", err))
	}
	return &imapClient{m: m, raw: raw, c: c, uidValidity: sel.UIDValidity}, nil
}

// List searches INBOX for UNSEEN and fetches each one's size.
func (c *imapClient) List(ctx context.Context) ([]Message, error) {
	stop := bound(ctx, c.raw)
	defer stop()
	data, err := c.c.UIDSearch(&imap.SearchCriteria{NotFlag: []imap.Flag{imap.FlagSeen}}, nil).Wait()
	if err != nil {
		return nil, ctxErr(ctx, fmt.Errorf("fetch: imap search unseen: %w", err))
	}
	uids := data.AllUIDs()
	if len(uids) == 0 {
		return nil, nil
	}
	msgs, err := c.c.Fetch(imap.UIDSetNum(uids...), &imap.FetchOptions{UID: true, RFC822Size: true}).Collect()
	if err != nil {
		return nil, ctxErr(ctx, fmt.Errorf("fetch: imap fetch sizes: %w", err))
	}
	out := make([]Message, 0, len(msgs))
	for _, msg := range msgs {
		out = append(out, Message{ID: c.id(msg.UID), Size: msg.RFC822Size})
	}
	slices.SortFunc(out, func(a, b Message) int { return cmp.Compare(c.uidOf(a.ID), c.uidOf(b.ID)) })
	return out, nil
}

// Fetch checks the size first, then reads BODY.PEEK[] (which leaves \Seen
// alone), stopping at limit+1 octets should the server have understated it.
func (c *imapClient) Fetch(ctx context.Context, id string, limit int64) ([]byte, error) {
	uid, err := c.parseID(id)
	if err != nil {
		return nil, err
	}
	stop := bound(ctx, c.raw)
	defer stop()
	allowMessage(c.raw, limit)
	sizes, err := c.c.Fetch(imap.UIDSetNum(uid), &imap.FetchOptions{UID: true, RFC822Size: true}).Collect()
	if err != nil {
		return nil, ctxErr(ctx, fmt.Errorf("fetch: imap fetch size of %s: %w", id, err))
	}
	if len(sizes) == 0 {
		return nil, fmt.Errorf("%w: imap %s", ErrNotFound, id)
	}
	if sizes[0].RFC822Size > limit {
		return nil, &TooLargeError{ID: id, Size: sizes[0].RFC822Size, Limit: limit}
	}

	section := &imap.FetchItemBodySection{Peek: true}
	cmd := c.c.Fetch(imap.UIDSetNum(uid), &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{section}})
	defer cmd.Close()
	var raw []byte
	var found bool
	for msg := cmd.Next(); msg != nil; msg = cmd.Next() {
		for item := msg.Next(); item != nil; item = msg.Next() {
			body, ok := item.(imapclient.FetchItemDataBodySection)
			if !ok || body.Literal == nil {
				continue
			}
			found = true
			if body.Literal.Size() > limit {
				return nil, &TooLargeError{ID: id, Size: body.Literal.Size(), Limit: limit}
			}
			raw, err = io.ReadAll(io.LimitReader(body.Literal, limit+1))
			if err != nil {
				return nil, ctxErr(ctx, fmt.Errorf("fetch: imap read %s: %w", id, err))
			}
			if int64(len(raw)) > limit {
				return nil, &TooLargeError{ID: id, Size: int64(len(raw)), Limit: limit}
			}
		}
	}
	if err := cmd.Close(); err != nil {
		return nil, ctxErr(ctx, fmt.Errorf("fetch: imap fetch %s: %w", id, err))
	}
	if !found {
		return nil, fmt.Errorf("%w: imap %s", ErrNotFound, id)
	}
	return raw, nil
}

// MarkProcessed adds \Seen, or for Delete \Seen and \Deleted followed by
// UID EXPUNGE (EXPUNGE without UIDPLUS). A UID already gone is no error:
// the message is processed either way.
func (c *imapClient) MarkProcessed(ctx context.Context, id string) error {
	uid, err := c.parseID(id)
	if err != nil {
		return err
	}
	stop := bound(ctx, c.raw)
	defer stop()
	flags := []imap.Flag{imap.FlagSeen}
	if c.m.AfterProcessing == Delete {
		flags = append(flags, imap.FlagDeleted)
	}
	set := imap.UIDSetNum(uid)
	store := &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: flags}
	if err := c.c.Store(set, store, nil).Close(); err != nil {
		return ctxErr(ctx, fmt.Errorf("fetch: imap store flags on %s: %w", id, err))
	}
	if c.m.AfterProcessing != Delete {
		return nil
	}
	caps := c.c.Caps()
	var expunge *imapclient.ExpungeCommand
	if caps.Has(imap.CapUIDPlus) || caps.Has(imap.CapIMAP4rev2) {
		expunge = c.c.UIDExpunge(set)
	} else {
		expunge = c.c.Expunge()
	}
	if err := expunge.Close(); err != nil {
		return ctxErr(ctx, fmt.Errorf("fetch: imap expunge %s: %w", id, err))
	}
	return nil
}

// Close logs out (briefly bounded: a dead server must not hold it up) and
// closes the connection.
func (c *imapClient) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), logoutTimeout)
	defer cancel()
	stop := bound(ctx, c.raw)
	err := c.c.Logout().Wait()
	stop()
	if cerr := c.c.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("fetch: imap logout: %w", err)
	}
	return nil
}

func (c *imapClient) id(uid imap.UID) string {
	return strconv.FormatUint(uint64(c.uidValidity), 10) + ":" + strconv.FormatUint(uint64(uid), 10)
}

// parseID splits "<UIDVALIDITY>:<UID>"; another UIDVALIDITY is ErrNotFound.
func (c *imapClient) parseID(id string) (imap.UID, error) {
	v, u, ok := strings.Cut(id, ":")
	validity, err1 := strconv.ParseUint(v, 10, 32)
	uid, err2 := strconv.ParseUint(u, 10, 32)
	if !ok || err1 != nil || err2 != nil || uid == 0 {
		return 0, fmt.Errorf("fetch: %q is not an IMAP message ID (UIDVALIDITY:UID)", id)
	}
	if uint32(validity) != c.uidValidity {
		return 0, fmt.Errorf("%w: imap %s: the mailbox's UIDVALIDITY is now %d", ErrNotFound, id, c.uidValidity)
	}
	return imap.UID(uid), nil
}

func (c *imapClient) uidOf(id string) imap.UID {
	uid, _ := c.parseID(id)
	return uid
}
