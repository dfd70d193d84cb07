package api

import (
	"strings"
	"testing"
)

func TestRevisionDiffShowsWhatLegalAskedToChange(t *testing.T) {
	before := "Dear customer,\nWe found a leak on 20 Nov.\nCall us."
	after := "Dear customer,\nWe found a leak on 20 November.\nYour password was not exposed.\nCall us."
	var got []string
	for _, l := range lineDiff(before, after) {
		got = append(got, l.Op+l.Text)
	}
	want := " Dear customer,|-We found a leak on 20 Nov.|+We found a leak on 20 November.|+Your password was not exposed.| Call us."
	if strings.Join(got, "|") != want {
		t.Fatalf("diff:\n%s\nwant:\n%s", strings.Join(got, "|"), want)
	}
}
