package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tocsin/tocsin/internal/store"
)

// On SQLite the store has one connection. An upload that arrives slowly
// must not hold it: while a responder's 'inventory import' is still coming
// in, everyone else's token checks and reads go on.
func TestASlowUploadDoesNotHoldTheStore(t *testing.T) {
	s, hs := newServer(t)
	// A spool directory of its own: other packages' tests upload to the
	// system's temporary directory at the same time.
	s.Uploads.Dir = t.TempDir()
	body, send := io.Pipe()
	t.Cleanup(func() { send.CloseWithError(errors.New("the test ended")) }) // before the server closes
	mw := multipart.NewWriter(send)
	req, _ := http.NewRequest("POST", hs.URL+"/api/v1/inventory", body)
	req.Header.Set("Authorization", "Bearer resp")
	req.Header.Set("Content-Type", mw.FormDataContentType())
	done := make(chan *http.Response, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Error(err)
		}
		done <- resp
	}()
	part, _ := mw.CreateFormFile("systems", "systems.yaml")
	part.Write([]byte(testSystems))
	part, _ = mw.CreateFormFile("subjects", "subjects.csv")
	part.Write([]byte("subject_id,name,email,phone,onsite_id,locale,region,birth_year,systems\nu1,A,a@example.com,,,en,SG,,crm\n"))
	// The upload stalls here, halfway through its subjects.

	reader := &http.Client{Timeout: 20 * time.Second}
	get, _ := http.NewRequest("GET", hs.URL+"/api/v1/inventory", nil)
	get.Header.Set("Authorization", "Bearer view")
	resp, err := reader.Do(get)
	require.NoError(t, err, "a read while an upload is still arriving")
	resp.Body.Close()
	require.Equal(t, http.StatusForbidden, resp.StatusCode, "the viewer's token was checked (and the store answered)")
	get.Header.Set("Authorization", "Bearer resp")
	resp, err = reader.Do(get)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)

	part.Write([]byte("u2,B,b@example.com,,,en,SG,,crm\n"))
	mw.Close()
	send.Close()
	imp := <-done
	require.NotNil(t, imp)
	imp.Body.Close()
	require.Equal(t, http.StatusOK, imp.StatusCode)
	leftovers, _ := os.ReadDir(s.Uploads.Dir)
	for _, f := range leftovers {
		require.NotContains(t, f.Name(), "tocsin-upload-", "the spooled upload is removed")
	}
}

// A client that sends its request headers a byte at a time is dropped once
// the header timeout passes, instead of holding a connection open for ever.
func TestASlowLorisConnectionIsDropped(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := NewHTTPServer(http.NotFoundHandler(), 300*time.Millisecond)
	go srv.Serve(ln)
	defer srv.Shutdown(context.Background())
	conn, err := net.Dial("tcp", ln.Addr().String())
	require.NoError(t, err)
	defer conn.Close()
	_, err = conn.Write([]byte("GET / HTTP/1.1\r\nHost: tocsin\r\nX-Slow: "))
	require.NoError(t, err)
	conn.SetReadDeadline(time.Now().Add(15 * time.Second))
	buf := make([]byte, 512)
	for {
		_, err = conn.Read(buf)
		if err != nil {
			break
		}
	}
	var ne net.Error
	require.False(t, errors.As(err, &ne) && ne.Timeout(), "the server closed the connection; it did not wait for the rest of the headers")
}

// When Temporal is down, opening an incident fails as a whole: no record is
// left in the lists with no workflow behind it, and the refusal is audited.
func TestAnIncidentWhoseWorkflowCannotStartIsNotLeftBehind(t *testing.T) {
	s, hs := authzServer(t)
	ctx := context.Background()
	_, err := s.Store.ImportInventory(ctx, store.ImportInput{SystemsFile: "systems.yaml", Systems: strings.NewReader(testSystems), SubjectsFile: "s.csv",
		Subjects: strings.NewReader("subject_id,name,email,phone,onsite_id,locale,region,birth_year,systems\nu1,A,a@example.com,,,en,SG,,crm\n"), ImportedBy: "r@example.com"})
	require.NoError(t, err)
	body, _ := json.Marshal(OpenRequest{YAML: "title: t\ndetected_at: 2026-11-20T08:00:00Z\nsystems: [crm]\ndescription: d\nmeasures: m\nadvice: a\ncontact: c\n"})
	req, _ := http.NewRequest("POST", hs.URL+"/api/v1/incidents", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer tok-responder")
	req.Header.Set("Content-Type", "application/json")
	resp, err := (&http.Client{Timeout: time.Minute}).Do(req)
	require.NoError(t, err)
	msg, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusBadGateway, resp.StatusCode, string(msg))
	require.Contains(t, string(msg), "nothing was recorded")
	incs, err := s.Store.AllIncidents(ctx)
	require.NoError(t, err)
	require.Empty(t, incs)
	log, err := s.Store.AuditLog(ctx, "")
	require.NoError(t, err)
	require.Equal(t, store.AuditRefused, log[len(log)-1].Outcome)
	require.Equal(t, "open", log[len(log)-1].Action)
}

// The server's write timeout runs from the start of a request: an upload
// that takes longer than it to arrive still gets its answer.
func TestAnUploadSlowerThanTheWriteTimeoutIsAnswered(t *testing.T) {
	s, _ := newServer(t)
	hs := httptest.NewUnstartedServer(s.Handler())
	hs.Config.WriteTimeout = 300 * time.Millisecond
	hs.Start()
	t.Cleanup(hs.Close)
	body, send := io.Pipe()
	t.Cleanup(func() { send.CloseWithError(errors.New("the test ended")) })
	mw := multipart.NewWriter(send)
	req, _ := http.NewRequest("POST", hs.URL+"/api/v1/inventory", body)
	req.Header.Set("Authorization", "Bearer resp")
	req.Header.Set("Content-Type", mw.FormDataContentType())
	go func() {
		part, _ := mw.CreateFormFile("systems", "systems.yaml")
		part.Write([]byte(testSystems))
		part, _ = mw.CreateFormFile("subjects", "subjects.csv")
		part.Write([]byte("subject_id,name,email,phone,onsite_id,locale,region,birth_year,systems\n"))
		time.Sleep(time.Second) // three write timeouts
		part.Write([]byte("u1,A,a@example.com,,,en,SG,,crm\n"))
		mw.Close()
		send.Close()
	}()
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err, "the answer must not be cut off by the write timeout")
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
}

// uploadInventory posts systems and subjects as the CLI does and answers
// the status.
func uploadInventory(t *testing.T, url, subjects string) int {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	part, _ := mw.CreateFormFile("systems", "systems.yaml")
	part.Write([]byte(testSystems))
	part, _ = mw.CreateFormFile("subjects", "subjects.csv")
	part.Write([]byte(subjects))
	mw.Close()
	req, _ := http.NewRequest("POST", url+"/api/v1/inventory", &body)
	req.Header.Set("Authorization", "Bearer resp")
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	return resp.StatusCode
}

// Uploads spool where the configuration says, no larger than it allows,
// and never into the last of the disk.
func TestUploadsAreBoundedByConfigurationAndFreeDisk(t *testing.T) {
	s, hs := newServer(t)
	dir := t.TempDir()
	subjects := "subject_id,name,email,phone,onsite_id,locale,region,birth_year,systems\n" + strings.Repeat("u1,A,a@example.com,,,en,SG,,crm\n", 40000)
	s.Uploads = Uploads{Dir: dir, MaxBytes: 1 << 20}
	require.Equal(t, http.StatusRequestEntityTooLarge, uploadInventory(t, hs.URL, subjects), "over the configured size")
	s.Uploads.KeepFree = 1 << 62
	require.Equal(t, http.StatusInsufficientStorage, uploadInventory(t, hs.URL, "subject_id\n"), "no room left on the disk")
	left, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Empty(t, left, "nothing is left in the spool directory")
}

// The sign-in form is read only as a small URL-encoded form: a multipart
// body, which net/http would spool to disk before any check, is refused
// unread even with a self-set sign-in cookie, and so is a large form.
func TestSignInReadsNoLargeOrMultipartBody(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	_, hs := authzServer(t)
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mw.WriteField("csrf", "self-made")
	part, _ := mw.CreateFormFile("token", "big.bin")
	part.Write(bytes.Repeat([]byte("x"), 12<<20))
	mw.Close()
	post := func(contentType string, body io.Reader) int {
		req, _ := http.NewRequest("POST", hs.URL+"/login", body)
		req.Header.Set("Content-Type", contentType)
		req.AddCookie(&http.Cookie{Name: loginCookie, Value: "self-made"})
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	require.Equal(t, http.StatusBadRequest, post(mw.FormDataContentType(), &body))
	left, err := os.ReadDir(tmp)
	require.NoError(t, err)
	require.Empty(t, left, "the multipart body was not spooled")
	require.Equal(t, http.StatusBadRequest, post("application/x-www-form-urlencoded", strings.NewReader("csrf=self-made&token="+strings.Repeat("x", 64<<10))))
}
