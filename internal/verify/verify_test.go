package verify

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestACodeIsStableAndNeedsTheKey(t *testing.T) {
	a := Code([]byte("k1"), "INC-1", "s1", 0)
	require.Len(t, a, Length)
	require.Equal(t, a, Code([]byte("k1"), "INC-1", "s1", 0), "every channel's copy carries the same code")
	require.NotEqual(t, a, Code([]byte("k2"), "INC-1", "s1", 0), "without the key no code can be made")
	require.NotEqual(t, a, Code([]byte("k1"), "INC-1", "s2", 0))
	require.NotEqual(t, a, Code([]byte("k1"), "INC-2", "s1", 0))
	require.NotEqual(t, a, Code([]byte("k1"), "INC-1", "s1", 1), "a collision is resolved by trying again")
	for _, r := range a {
		require.Contains(t, Alphabet, string(r))
	}
	for _, confusable := range "01ILOUV" {
		require.NotContains(t, Alphabet, string(confusable))
	}
}

func TestCodesSpreadOverTheAlphabet(t *testing.T) {
	seen := map[rune]int{}
	codes := map[string]bool{}
	for i := range 3000 {
		c := Code([]byte("k"), "INC", strings.Repeat("x", i%7)+string(rune('a'+i%26))+string(rune(i)), 0)
		codes[c] = true
		for _, r := range c {
			seen[r]++
		}
	}
	require.Len(t, codes, 3000)
	require.Len(t, seen, len(Alphabet))
	for r, n := range seen {
		require.InDelta(t, 30000/len(Alphabet), n, 250, "%c", r)
	}
}

func TestAPersonTypesTheirCodeAsTheyReadIt(t *testing.T) {
	code := Code([]byte("k"), "INC", "s", 0)
	for _, typed := range []string{code, strings.ToLower(code), Format(code), " " + code[:3] + " " + code[3:] + " "} {
		got, ok := Normalize(typed)
		require.True(t, ok, typed)
		require.Equal(t, code, got)
	}
	for _, bad := range []string{"", code[:9], code + "2", "O" + code[1:], code[:9] + "!", strings.Repeat("A", 1000)} {
		_, ok := Normalize(bad)
		require.False(t, ok, bad)
	}
}

func TestEachCopyCarriesItsReadersCode(t *testing.T) {
	text := "Check it at https://x/n/" + Mark + " (code " + Mark + "). Say: " + SpokenMark
	require.Equal(t, "Check it at https://x/n/ABCDE23456 (code ABCDE23456). Say: A B C D E, 2 3 4 5 6", Personalize(text, "ABCDE23456"))
	require.Equal(t, "no code here", Personalize("no code here", "ABCDE23456"))
}
