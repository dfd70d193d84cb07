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

func (c *Client) send(req *http.Request, out any) error {
	if c.Token == "" {
		return errors.New("no API token: set TOCSIN_TOKEN (dev mode writes them to DATA/dev-tokens.env)")
	}
	req.Header.Set("Authorization", "Bearer "+c.Token)
	hc := c.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 2 * time.Minute}
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("cannot reach Tocsin at %s: %w (is 'tocsin dev' running? set --server or TOCSIN_SERVER)", c.Server, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		var e struct{ Error string }
		if json.Unmarshal(data, &e) == nil && e.Error != "" {
			return &APIError{Status: resp.StatusCode, Message: e.Error}
		}
		return &APIError{Status: resp.StatusCode, Message: fmt.Sprintf("%s: %s", resp.Status, strings.TrimSpace(string(data)))}
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(data, out)
}

// ImportInventory uploads systems.yaml and subjects.csv, streaming the CSV.
func (c *Client) ImportInventory(ctx context.Context, systemsPath, subjectsPath string, maxErrors int, out any) error {
	systems, err := os.Open(systemsPath)
	if err != nil {
		return err
	}
	defer systems.Close()
	subjects, err := os.Open(subjectsPath)
	if err != nil {
		return err
	}
	defer subjects.Close()
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		err := func() error {
			for _, f := range []struct {
				field string
				file  *os.File
			}{{"systems", systems}, {"subjects", subjects}} {
				part, err := mw.CreateFormFile(f.field, filepath.Base(f.file.Name()))
				if err != nil {
					return err
				}
				if _, err := io.Copy(part, f.file); err != nil {
					return err
				}
			}
			return mw.Close()
		}()
		pw.CloseWithError(err)
	}()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, fmt.Sprintf("%s/api/v1/inventory?max_errors=%d", c.Server, maxErrors), pr)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return c.send(req, out)
}
