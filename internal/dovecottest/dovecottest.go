// Package dovecottest runs a real, throw-away Dovecot (Debian's dovecot-imapd
// and dovecot-pop3d) for tests: its own config, passwd-file and maildirs in a
// temp dir, listening on 127.0.0.1 on free ports for IMAP, IMAPS, POP3 and
// POP3S (a self-signed certificate), in the foreground so the test kills it.
//
// Tests put mail into a user's INBOX by writing maildir files (Deliver), the
// way an MDA would, so nothing but Dovecot itself speaks the protocols.
package dovecottest

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// The user every server knows.
const (
	User     = "gateway@example.test"
	Password = "s3cret-pass"
)

// Server is one running Dovecot.
type Server struct {
	// Addresses (host:port on 127.0.0.1) of the listeners: plain IMAP (which
	// offers STARTTLS), implicit-TLS IMAP, plain POP3 (offers STLS) and
	// implicit-TLS POP3.
	IMAP, IMAPS, POP3, POP3S string
	// CertPool trusts the server's self-signed certificate (for 127.0.0.1
	// and "localhost").
	CertPool *x509.CertPool

	dir      string
	uid, gid int
	seq      atomic.Int64
}

// Options change how the server is configured.
type Options struct {
	// NoTLS turns SSL off: nothing offers STARTTLS/STLS and the implicit-TLS
	// listeners are left out (their addresses stay empty).
	NoTLS bool
}

// Start starts Dovecot for the test and stops it (and removes its files) at
// the end of the test. Without the dovecot binary the test is skipped, unless
// CI is set, where it fails: CI must run these tests.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	bin, err := exec.LookPath("dovecot")
	if err != nil {
		for _, p := range []string{"/usr/sbin/dovecot", "/usr/local/sbin/dovecot"} {
			if _, serr := os.Stat(p); serr == nil {
				bin, err = p, nil
				break
			}
		}
	}
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("dovecottest: the dovecot binary is missing and CI is set: install dovecot-imapd and dovecot-pop3d (scripts/setup)")
		}
		t.Skip("dovecottest: the dovecot binary is missing; install dovecot-imapd and dovecot-pop3d (scripts/setup) to run this test")
	}

	dir, err := os.MkdirTemp("", "dovecottest-")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{dir: dir}
	s.uid, s.gid = os.Getuid(), os.Getgid()
	internalUser, loginUser := currentUserName(t), currentUserName(t)
	if s.uid == 0 {
		// Dovecot refuses mail access as root, and as root it drops
		// privileges: mail belongs to nobody, the rest to Debian's users.
		s.uid, s.gid = 65534, 65534
		internalUser, loginUser = "dovecot", "dovenull"
		if err := os.Chmod(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { os.RemoveAll(dir) })

	// The free ports are found by listening and closing, so another test may
	// take one before Dovecot listens on it: then Dovecot exits with
	// "Address already in use", and it is started again on other ports.
	launch := func() (portTaken bool) {
		ports := freePorts(t, 4)
		s.IMAP = net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[0]))
		s.POP3 = net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[2]))
		tlsConf := "ssl = no\n"
		imapsListener, pop3sListener := "", ""
		if !opts.NoTLS {
			s.IMAPS = net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[1]))
			s.POP3S = net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[3]))
			certPEM, keyPEM, pool := selfSignedCert(t)
			s.CertPool = pool
			mustWrite(t, filepath.Join(dir, "cert.pem"), certPEM, 0o644)
			mustWrite(t, filepath.Join(dir, "key.pem"), keyPEM, 0o600)
			tlsConf = fmt.Sprintf("ssl = yes\nssl_cert = <%s/cert.pem\nssl_key = <%s/key.pem\n", dir, dir)
			imapsListener = fmt.Sprintf("  inet_listener imaps {\n    address = 127.0.0.1\n    port = %d\n    ssl = yes\n  }\n", ports[1])
			pop3sListener = fmt.Sprintf("  inet_listener pop3s {\n    address = 127.0.0.1\n    port = %d\n    ssl = yes\n  }\n", ports[3])
		}

		mustWrite(t, filepath.Join(dir, "passwd"),
			[]byte(fmt.Sprintf("%s:{PLAIN}%s:%d:%d::%s/home/%s::\n", User, Password, s.uid, s.gid, dir, User)), 0o644)
		if err := os.MkdirAll(s.maildir(), 0o755); err != nil {
			t.Fatal(err)
		}
		for _, sub := range []string{"new", "cur", "tmp"} {
			if err := os.MkdirAll(filepath.Join(s.maildir(), sub), 0o700); err != nil {
				t.Fatal(err)
			}
		}
		s.chownHome(t)

		conf := fmt.Sprintf(`# dovecottest: a throw-away instance for one test.
	base_dir = %[1]s/run
	state_dir = %[1]s/state
	log_path = %[1]s/dovecot.log
	info_log_path = %[1]s/dovecot.log
	protocols = imap pop3
	listen = 127.0.0.1
	default_internal_user = %[2]s
	default_internal_group = %[3]s
	default_login_user = %[4]s
	first_valid_uid = 1
	disable_plaintext_auth = no
	auth_mechanisms = plain login
	auth_failure_delay = 0
	mail_location = maildir:~/Maildir
	pop3_uidl_format = %%08Xv%%08Xu
	%[5]s
	passdb {
	  driver = passwd-file
	  args = scheme=PLAIN username_format=%%u %[1]s/passwd
	}
	userdb {
	  driver = passwd-file
	  args = username_format=%%u %[1]s/passwd
	}
	service imap-login {
	  inet_listener imap {
	    address = 127.0.0.1
	    port = %[6]d
	  }
	%[7]s}
	service pop3-login {
	  inet_listener pop3 {
	    address = 127.0.0.1
	    port = %[8]d
	  }
	%[9]s}
	`, dir, internalUser, groupName(t, internalUser), loginUser, tlsConf, ports[0], imapsListener, ports[2], pop3sListener)
		confPath := filepath.Join(dir, "dovecot.conf")
		mustWrite(t, confPath, []byte(conf), 0o644)

		var out bytes.Buffer
		cmd := exec.Command(bin, "-F", "-c", confPath)
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatalf("dovecottest: start dovecot: %v", err)
		}
		exited := make(chan struct{})
		go func() { cmd.Wait(); close(exited) }()
		t.Cleanup(func() {
			cmd.Process.Kill()
			<-exited
		})

		// Ready when every listener accepts a connection.
		deadline := time.Now().Add(15 * time.Second)
		for _, addr := range []string{s.IMAP, s.IMAPS, s.POP3, s.POP3S} {
			if addr == "" {
				continue
			}
			for {
				c, err := net.DialTimeout("tcp", addr, time.Second)
				if err == nil {
					c.Close()
					break
				}
				select {
				case <-exited:
					if strings.Contains(out.String(), "Address already in use") {
						return true // a port freePorts found was taken meanwhile: try others
					}
					t.Fatalf("dovecottest: dovecot exited: %s\nlog:\n%s", out.String(), s.Log())
				default:
				}
				if time.Now().After(deadline) {
					t.Fatalf("dovecottest: dovecot did not listen on %s: %v\nlog:\n%s", addr, err, s.Log())
				}
				time.Sleep(20 * time.Millisecond)
			}
		}
		return false
	}
	for attempt := 1; launch(); attempt++ {
		if attempt == 5 {
			t.Fatalf("dovecottest: five sets of free ports were taken before dovecot could listen; log:\n%s", s.Log())
		}
	}
	return s
}

// TLSConfig trusts the server's certificate.
func (s *Server) TLSConfig() *tls.Config {
	return &tls.Config{RootCAs: s.CertPool, ServerName: "127.0.0.1"}
}

// Log is Dovecot's log so far, for failure messages.
func (s *Server) Log() string {
	b, _ := os.ReadFile(filepath.Join(s.dir, "dovecot.log"))
	return string(b)
}

// Deliver puts one raw RFC 5322 message (CRLF or LF line endings; maildir
// keeps whatever it is given) into User's INBOX as a new, unseen message, by
// writing a maildir file the way an MDA does: into tmp, then renamed to new.
func (s *Server) Deliver(t testing.TB, raw []byte) {
	t.Helper()
	name := fmt.Sprintf("%d.M%dP%d.dovecottest", time.Now().Unix(), s.seq.Add(1), os.Getpid())
	tmp := filepath.Join(s.maildir(), "tmp", name)
	mustWrite(t, tmp, raw, 0o600)
	if err := os.Chown(tmp, s.uid, s.gid); err != nil && os.Getuid() == 0 {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(s.maildir(), "new", name)); err != nil {
		t.Fatal(err)
	}
}

func (s *Server) maildir() string { return filepath.Join(s.dir, "home", User, "Maildir") }

// chownHome hands the user's home to the mail uid when the test runs as root.
func (s *Server) chownHome(t testing.TB) {
	t.Helper()
	if os.Getuid() != 0 {
		return
	}
	err := filepath.Walk(filepath.Join(s.dir, "home"), func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Chown(p, s.uid, s.gid)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func currentUserName(t testing.TB) string {
	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	return u.Username
}

func groupName(t testing.TB, userName string) string {
	u, err := user.Lookup(userName)
	if err != nil {
		t.Fatal(err)
	}
	g, err := user.LookupGroupId(u.Gid)
	if err != nil {
		t.Fatal(err)
	}
	return g.Name
}

// freePorts finds n free TCP ports on 127.0.0.1 (by listening and closing,
// so another process could still take one before Dovecot does; rare enough).
func freePorts(t testing.TB, n int) []int {
	t.Helper()
	var lns []net.Listener
	var ports []int
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		lns = append(lns, ln)
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	for _, ln := range lns {
		ln.Close()
	}
	return ports
}

func mustWrite(t testing.TB, path string, b []byte, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, b, mode); err != nil {
		t.Fatal(err)
	}
}
