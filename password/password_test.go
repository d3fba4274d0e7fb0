package password

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestHashVerify(t *testing.T) {
	t.Parallel()
	h, err := Hash("correct horse battery")
	require.NoError(t, err)
	require.True(t, Verify("correct horse battery", h))
	require.False(t, Verify("correct horse batterY", h))
	require.False(t, Verify("correct horse battery", "$bcrypt$nonsense"))

	h2, err := Hash("correct horse battery")
	require.NoError(t, err)
	require.NotEqual(t, h, h2, "each hash has its own salt")
}

func TestGenerate(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for range 100 {
		p := Generate()
		require.Len(t, p, 16)
		require.NotContains(t, p, "0")
		require.False(t, seen[p])
		seen[p] = true
	}
}
