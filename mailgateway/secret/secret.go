// Package secret seals the passwords of the incoming mail gateways with
// AES-256-GCM under the key MAIL_GATEWAY_KEY, so that the database alone
// never gives the mailboxes away.
package secret

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// KeySize is the length of a key: AES-256.
const KeySize = 32

// Key seals and opens passwords. A nil *Key is "no key configured".
type Key struct{ aead cipher.AEAD }

// ParseKey reads a key written in standard base64 (44 characters for 32
// bytes), as MAIL_GATEWAY_KEY holds it.
func ParseKey(s string) (*Key, error) {
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s))
	if err != nil || len(raw) != KeySize {
		return nil, fmt.Errorf("MAIL_GATEWAY_KEY must be %d random bytes in base64, such as the output of `openssl rand -base64 32`", KeySize)
	}
	return newKey(raw)
}

// NewKey returns a fresh random key and its base64 text.
func NewKey() (*Key, string, error) {
	raw := make([]byte, KeySize)
	if _, err := rand.Read(raw); err != nil {
		return nil, "", err
	}
	k, err := newKey(raw)
	return k, base64.StdEncoding.EncodeToString(raw), err
}

func newKey(raw []byte) (*Key, error) {
	block, err := aes.NewCipher(raw)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Key{aead: aead}, nil
}

// ErrNoKey: a password must be sealed or opened but no key is configured.
var ErrNoKey = errors.New("MAIL_GATEWAY_KEY is not set: the passwords of mail gateways cannot be stored or read without it")

// Seal encrypts password under a fresh random nonce.
func (k *Key) Seal(password string) (nonce, sealed []byte, err error) {
	if k == nil {
		return nil, nil, ErrNoKey
	}
	nonce = make([]byte, k.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, nil, err
	}
	return nonce, k.aead.Seal(nil, nonce, []byte(password), nil), nil
}

// Open decrypts what Seal returned. A wrong key (MAIL_GATEWAY_KEY changed)
// is an error that says so, never garbage.
func (k *Key) Open(nonce, sealed []byte) (string, error) {
	if k == nil {
		return "", ErrNoKey
	}
	if len(nonce) != k.aead.NonceSize() {
		return "", errors.New("the stored password is damaged (bad nonce): set it again")
	}
	plain, err := k.aead.Open(nil, nonce, sealed, nil)
	if err != nil {
		return "", errors.New("the stored password cannot be decrypted: MAIL_GATEWAY_KEY is not the key it was stored with; set the password again")
	}
	return string(plain), nil
}
