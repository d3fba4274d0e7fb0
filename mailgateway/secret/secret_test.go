package secret

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSealOpen(t *testing.T) {
	t.Parallel()
	k, text, err := NewKey()
	require.NoError(t, err)
	nonce, sealed, err := k.Seal("s3cret-pass")
	require.NoError(t, err)
	require.False(t, bytes.Contains(sealed, []byte("s3cret")), "the sealed bytes don't hold the password")
	got, err := k.Open(nonce, sealed)
	require.NoError(t, err)
	require.Equal(t, "s3cret-pass", got)

	// The same key read back from its text opens it; another key doesn't.
	k2, err := ParseKey(text)
	require.NoError(t, err)
	got, err = k2.Open(nonce, sealed)
	require.NoError(t, err)
	require.Equal(t, "s3cret-pass", got)
	other, _, err := NewKey()
	require.NoError(t, err)
	_, err = other.Open(nonce, sealed)
	require.ErrorContains(t, err, "MAIL_GATEWAY_KEY is not the key")

	// Two seals of one password differ (fresh nonce).
	n2, s2, err := k.Seal("s3cret-pass")
	require.NoError(t, err)
	require.NotEqual(t, nonce, n2)
	require.NotEqual(t, sealed, s2)
}

func TestParseKeyRefusesBadKeys(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"", "not base64!", "c2hvcnQ="} {
		_, err := ParseKey(s)
		require.ErrorContains(t, err, "MAIL_GATEWAY_KEY must be 32 random bytes", s)
	}
	var k *Key
	_, _, err := k.Seal("x")
	require.ErrorIs(t, err, ErrNoKey)
}
