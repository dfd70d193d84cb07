package api

import (
	"fmt"
	"strings"
	"testing"
)

func TestRevisionDiffShowsWhatLegalAskedToChange(t *testing.T) {
	before := "Dear customer,\nWe found a leak on 20 Nov.\nCall us."
	after := "Dear customer,\nWe found a leak on 20 November.\nYour password was not exposed.\nCall us."
	var got []string
	diff, ok := lineDiff(before, after)
	if !ok {
		t.Fatal("a small change must be compared")
	}
	for _, l := range diff {
		got = append(got, l.Op+l.Text)
	}
	want := " Dear customer,|-We found a leak on 20 Nov.|+We found a leak on 20 November.|+Your password was not exposed.| Call us."
	if strings.Join(got, "|") != want {
		t.Fatalf("diff:\n%s\nwant:\n%s", strings.Join(got, "|"), want)
	}
}

// Two revisions of 5,000 entirely different lines would need a 25-million
// cell table: the diff is skipped and says so, instead of taking the
// server's memory. A one-line change in the same long text is still shown.
func TestAHugeRevisionDiffIsSkippedNotComputed(t *testing.T) {
	var a, b strings.Builder
	for i := 0; i < 5000; i++ {
		fmt.Fprintf(&a, "old line %d\n", i)
		fmt.Fprintf(&b, "new line %d\n", i)
	}
	if _, ok := lineDiff(a.String(), b.String()); ok {
		t.Fatal("a diff of 5,000 x 5,000 changed lines should be refused")
	}
	long := a.String()
	diff, ok := lineDiff(long, strings.Replace(long, "old line 2500\n", "changed line\n", 1))
	if !ok {
		t.Fatal("a one-line change in a long text is cheap to compare")
	}
	var changed []string
	for _, l := range diff {
		if l.Op != " " {
			changed = append(changed, l.Op+l.Text)
		}
	}
	if strings.Join(changed, "|") != "-old line 2500|+changed line" {
		t.Fatalf("changed lines: %v", changed)
	}
}
