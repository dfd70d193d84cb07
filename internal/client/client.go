// Package client talks to Tocsin's HTTP API for the CLI and the tests.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Client is an authenticated API client.
type Client struct {
	Server string
	Token  string
	HTTP   *http.Client
}

// FromEnv reads TOCSIN_SERVER and TOCSIN_TOKEN.
func FromEnv(server string) *Client {
	if server == "" {
		server = os.Getenv("TOCSIN_SERVER")
	}
	if server == "" {
		server = "http://127.0.0.1:8080"
	}
	return &Client{Server: strings.TrimSuffix(server, "/"), Token: os.Getenv("TOCSIN_TOKEN")}
}

// APIError is an error answer from the server.
type APIError struct {
	Status  int
	Message string
}

func (e *APIError) Error() string { return e.Message }

// Do sends a JSON request and decodes the JSON answer into out.
func (c *Client) Do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.Server+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	return c.send(req, out)
}

func (c *Client) httpClient() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return &http.Client{Timeout: 2 * time.Minute}
}

// NextPageHeader carries the cursor of a list's next page; a list answer
// without it is the last page.
const NextPageHeader = "X-Next-Page"

// GetPage reads one page of a paged list into out and returns the cursor
// of the next page ("" on the last).
func (c *Client) GetPage(ctx context.Context, path string, out any) (string, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", c.Server+path, nil)
	if err != nil {
		return "", err
	}
	h, err := c.exchange(c.httpClient(), req, out)
	if err != nil {
		return "", err
	}
	return h.Get(NextPageHeader), nil
}

func (c *Client) send(req *http.Request, out any) error {
	return c.sendWith(c.httpClient(), req, out)
}

func (c *Client) sendWith(hc *http.Client, req *http.Request, out any) error {
	_, err := c.exchange(hc, req, out)
	return err
}

func (c *Client) exchange(hc *http.Client, req *http.Request, out any) (http.Header, error) {
	if c.Token == "" {
		return nil, errors.New("no API token: set TOCSIN_TOKEN (dev mode writes them to DATA/dev-tokens.env)")
	}
	req.Header.Set("Authorization", "Bearer "+c.Token)
	resp, err := hc.Do(req)
	if err != nil {
		var slow net.Error
		if errors.As(err, &slow) && slow.Timeout() && req.Context().Err() == nil && hc.Timeout > 0 {
			// Reached, but the answer did not come in time: a server busy
			// with many incidents may still carry the request out, so
			// sending it again blindly is not the advice.
			return nil, fmt.Errorf("no answer from Tocsin at %s within %s; it may still carry the request out: look at the incident before sending it again: %w", c.Server, hc.Timeout, err)
		}
		return nil, fmt.Errorf("cannot reach Tocsin at %s: %w (is 'tocsin dev' running? set --server or TOCSIN_SERVER)", c.Server, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode/100 != 2 {
		var e struct{ Error string }
		if json.Unmarshal(data, &e) == nil && e.Error != "" {
			return nil, &APIError{Status: resp.StatusCode, Message: e.Error}
		}
		return nil, &APIError{Status: resp.StatusCode, Message: fmt.Sprintf("%s: %s", resp.Status, strings.TrimSpace(string(data)))}
	}
	switch o := out.(type) {
	case nil:
		return resp.Header, nil
	case *string: // a text or HTML rendering, as served
		*o = string(data)
		return resp.Header, nil
	}
	return resp.Header, json.Unmarshal(data, out)
}

// Upload is one file of a multipart request.
type Upload struct {
	Field string
	Path  string
}

// Progress reports how much of the uploads has been sent: bytes of total,
// and lines (rows of a CSV, near enough).
type Progress func(sent, total, lines int64)

// UploadFiles streams files as a multipart form in the given order, so the
// server can read a file of any size as it arrives; progress follows the last
// (the bulk) file. There is no overall timeout: a ten-million-row import takes
// minutes; ctx cancels.
func (c *Client) UploadFiles(ctx context.Context, path string, files []Upload, progress Progress, out any) error {
	var opened []*os.File
	defer func() {
		for _, f := range opened {
			f.Close()
		}
	}()
	var total int64
	for _, u := range files {
		f, err := os.Open(u.Path)
		if err != nil {
			return err
		}
		opened = append(opened, f)
		if st, err := f.Stat(); err == nil {
			total = st.Size()
		}
	}
	counter := &countingWriter{total: total, progress: progress}
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		err := func() error {
			for i, u := range files {
				part, err := mw.CreateFormFile(u.Field, filepath.Base(u.Path))
				if err != nil {
					return err
				}
				var w io.Writer = part
				if i == len(files)-1 {
					w = io.MultiWriter(part, counter)
				}
				if _, err := io.Copy(w, opened[i]); err != nil {
					return err
				}
			}
			return mw.Close()
		}()
		pw.CloseWithError(err)
	}()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.Server+path, pr)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	hc := *c.httpClient()
	hc.Timeout = 0
	return c.sendWith(&hc, req, out)
}

type countingWriter struct {
	sent, lines, total int64
	progress           Progress
}

func (w *countingWriter) Write(p []byte) (int, error) {
	w.sent += int64(len(p))
	w.lines += int64(bytes.Count(p, []byte{'\n'}))
	if w.progress != nil {
		w.progress(w.sent, w.total, w.lines)
	}
	return len(p), nil
}

// ImportInventory uploads systems.yaml and subjects.csv, streaming the CSV.
func (c *Client) ImportInventory(ctx context.Context, systemsPath, subjectsPath string, maxErrors int, progress Progress, out any) error {
	return c.UploadFiles(ctx, fmt.Sprintf("/api/v1/inventory?max_errors=%d", maxErrors),
		[]Upload{{"systems", systemsPath}, {"subjects", subjectsPath}}, progress, out)
}

// Stream copies a GET response body to w as it arrives (a million-row CSV
// never sits in memory). There is no overall timeout; ctx cancels.
func (c *Client) Stream(ctx context.Context, path string, w io.Writer) error {
	if c.Token == "" {
		return errors.New("no API token: set TOCSIN_TOKEN (dev mode writes them to DATA/dev-tokens.env)")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.Server+path, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.Token)
	resp, err := (&http.Client{}).Do(req)
	if err != nil {
		return fmt.Errorf("cannot reach Tocsin at %s: %w", c.Server, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		data, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		var e struct{ Error string }
		if json.Unmarshal(data, &e) == nil && e.Error != "" {
			return &APIError{Status: resp.StatusCode, Message: e.Error}
		}
		return &APIError{Status: resp.StatusCode, Message: resp.Status}
	}
	_, err = io.Copy(w, resp.Body)
	return err
}
