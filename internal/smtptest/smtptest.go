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

	"github.com/emersion/go-smtp"
)

// Message is one delivered message.
type Message struct {
	From, To, Subject, MessageID, Body string
}

// Server is an SMTP server on 127.0.0.1 that accepts everything.
type Server struct {
	Addr string
	srv  *smtp.Server
	mu   sync.Mutex
	msgs []Message
}

// Start starts a server on a free port.
func Start() (*Server, error) {
	s := &Server{}
	s.srv = smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &session{s: s}, nil }))
	s.srv.Domain = "localhost"
	s.srv.AllowInsecureAuth = true
	s.srv.ErrorLog = log.New(io.Discard, "", 0)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s.Addr = ln.Addr().String()
	go func() { _ = s.srv.Serve(ln) }()
	return s, nil
}

// Close stops the server.
func (s *Server) Close() error { return s.srv.Close() }

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
	s    *Server
	from string
	to   []string
}

func (ss *session) Reset()                                      { ss.from, ss.to = "", nil }
func (ss *session) Logout() error                               { return nil }
func (ss *session) Mail(from string, _ *smtp.MailOptions) error { ss.from = from; return nil }
func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error   { ss.to = append(ss.to, to); return nil }

func (ss *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
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
		ss.s.msgs = append(ss.s.msgs, Message{From: ss.from, To: to, Subject: subject, MessageID: m.Header.Get("Message-Id"), Body: string(body)})
	}
	return nil
}
