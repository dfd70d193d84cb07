package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/tocsin/tocsin/internal/api"
)

// `incident approve` and `reject` name the revision decided on: the one
// --revision gives (what the reviewer read), else the one incident show
// lists at that moment, which the CLI says.
func TestApproveAndRejectNameTheRevision(t *testing.T) {
	var mu sync.Mutex
	var got []api.DecisionRequest
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/api/v1/incidents/INC-1":
			json.NewEncoder(w).Encode(api.View{ID: "INC-1", Drafts: []api.DraftView{{Name: "notice-en", Revision: 4, Status: api.DraftPending}}})
		case "/api/v1/incidents/INC-1/approve", "/api/v1/incidents/INC-1/reject":
			var req api.DecisionRequest
			json.NewDecoder(r.Body).Decode(&req)
			mu.Lock()
			got = append(got, req)
			mu.Unlock()
			json.NewEncoder(w).Encode(api.DraftView{Name: req.Draft, Revision: req.Revision, Status: api.DraftApproved})
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	t.Setenv("TOCSIN_SERVER", srv.URL)
	t.Setenv("TOCSIN_TOKEN", "tok")
	if _, err := runRoot(t, "incident", "approve", "INC-1", "--draft", "notice-en", "--revision", "3"); err != nil {
		t.Fatal(err)
	}
	if _, err := runRoot(t, "incident", "approve", "INC-1", "--draft", "notice-en"); err != nil {
		t.Fatal(err)
	}
	if _, err := runRoot(t, "incident", "reject", "INC-1", "--draft", "notice-en", "--reason", "x"); err != nil {
		t.Fatal(err)
	}
	if _, err := runRoot(t, "incident", "approve", "INC-1", "--draft", "notice-fr"); err == nil {
		t.Fatal("a draft the incident lacks is named as such")
	}
	if len(got) != 3 || got[0].Revision != 3 || got[1].Revision != 4 || got[2].Revision != 4 {
		t.Fatalf("decisions sent: %+v", got)
	}
}
