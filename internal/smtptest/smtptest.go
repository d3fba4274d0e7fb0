// Package smtptest runs a real SMTP server (go-smtp) in the test process and
// keeps every message it receives, so tests can count what was delivered.
package smtptest

import (
	"bytes"
	"io"
	"log"
	"mime"
	"net"
	"net/mail"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-smtp"
)

// Message is one delivered message: Body is what follows the headers (for a
// multipart message, its parts), Header every header.
type Message struct {
	From, To, Subject, MessageID, Body string
	Header                             mail.Header
}

// Server is an SMTP server on 127.0.0.1 that accepts everything, unless
// told to misbehave (SetFault, Down).
type Server struct {
	Addr  string
	srv   *smtp.Server
	ln    net.Listener
	mu    sync.Mutex
	msgs  []Message
	fault Fault
	stall time.Duration
}

// Fault is how the server misbehaves.
type Fault int

// Faults.
const (
	// Accept: a well-behaved server.
	Accept Fault = iota
	// DropAfterAccept answers 250 to DATA, then cuts the connection before
	// it answers anything else (RSET, QUIT): the message is delivered.
	DropAfterAccept
	// DropDuringData keeps the message and cuts the connection before it
	// answers DATA: the sender can't know whether it was taken.
	DropDuringData
	// Stall answers DATA only after the stall duration (SetStall).
	Stall
	// TempFail answers 451 to RCPT: try again later.
	TempFail
	// Reject answers 550 to RCPT: refused for good.
	Reject
)

// Start starts a server on a free port.
func Start() (*Server, error) {
	s := &Server{}
	s.srv = s.newServer()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s.Addr, s.ln = ln.Addr().String(), ln
	go func() { _ = s.srv.Serve(ln) }()
	return s, nil
}

func (s *Server) newServer() *smtp.Server {
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) { return &session{s: s, c: c}, nil }))
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true
	srv.ErrorLog = log.New(io.Discard, "", 0)
	return srv
}

// Close stops the server.
func (s *Server) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.srv.Close()
}

// SetFault makes the server misbehave from the next command on.
func (s *Server) SetFault(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fault = f
}

// SetStall sets how long Stall waits before it answers DATA.
func (s *Server) SetStall(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stall = d
}

// Down stops the server: connections are refused until Up.
func (s *Server) Down() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	_ = s.srv.Close() // closes the listener too, but not always before it returns
	_ = s.ln.Close()
	return nil
}

// Up starts the server again on the same address.
func (s *Server) Up() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	ln, err := net.Listen("tcp", s.Addr)
	if err != nil {
		return err
	}
	s.srv, s.ln = s.newServer(), ln
	go func(srv *smtp.Server) { _ = srv.Serve(ln) }(s.srv)
	return nil
}

func (s *Server) current() (Fault, time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fault, s.stall
}

// MessageIDs counts delivered messages by Message-ID whose subject contains part.
func (s *Server) MessageIDs(part string) map[string]int {
	out := map[string]int{}
	for _, m := range s.Messages() {
		if strings.Contains(m.Subject, part) {
			out[m.MessageID]++
		}
	}
	return out
}

// Messages returns what was delivered so far.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.msgs...)
}

// Count returns how many delivered messages have a subject containing part.
func (s *Server) Count(part string) int {
	n := 0
	for _, m := range s.Messages() {
		if strings.Contains(m.Subject, part) {
			n++
		}
	}
	return n
}

type session struct {
	s        *Server
	c        *smtp.Conn
	from     string
	to       []string
	accepted bool
}

func (ss *session) Reset() {
	if f, _ := ss.s.current(); f == DropAfterAccept && ss.accepted {
		_ = ss.c.Conn().Close() // the 250 went out; nothing after it does
	}
	ss.from, ss.to = "", nil
}
func (ss *session) Logout() error                               { return nil }
func (ss *session) Mail(from string, _ *smtp.MailOptions) error { ss.from = from; return nil }
func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	switch f, _ := ss.s.current(); f {
	case TempFail:
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try again later"}
	case Reject:
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
	}
	ss.to = append(ss.to, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	fault, stall := ss.s.current()
	defer func() {
		switch fault {
		case DropDuringData:
			_ = ss.c.Conn().Close()
		case Stall:
			time.Sleep(stall)
		case DropAfterAccept:
			ss.accepted = true
		}
	}()
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return err
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
	if err != nil {
		subject = m.Header.Get("Subject")
	}
	body, _ := io.ReadAll(m.Body)
	ss.s.mu.Lock()
	defer ss.s.mu.Unlock()
	for _, to := range ss.to {
		ss.s.msgs = append(ss.s.msgs, Message{From: ss.from, To: to, Subject: subject, MessageID: m.Header.Get("Message-Id"), Body: string(body),
			Header: m.Header})
	}
	return nil
}
