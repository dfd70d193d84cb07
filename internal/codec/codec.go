// Package codec encrypts what Tocsin gives Temporal: every payload
// (workflow inputs, results, activity arguments, queries, updates, memos)
// and every failure's message, with AES-256-GCM under a key ring that
// rotates. Temporal's database, its operators and anyone who reads a
// history see key IDs and ciphertext, not incident facts or contacts.
package codec

import (
	"bufio"
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"google.golang.org/protobuf/proto"
)

// Metadata Tocsin's encrypted payloads carry. A payload without them is
// plaintext from before encryption and is decoded as it is.
const (
	Encoding      = "binary/encrypted"
	MetadataKeyID = "encryption-key-id"
	keyBytes      = 32
)

// ErrUnknownKey is a payload encrypted under a key the ring does not hold.
var ErrUnknownKey = errors.New("payload encrypted with a key that is not loaded")

// Keys is a key ring: every key decrypts, the current one encrypts.
type Keys struct {
	current string
	aeads   map[string]cipher.AEAD
	order   []string
}

// Current is the ID of the key new payloads are encrypted with.
func (k Keys) Current() string { return k.current }

// IDs lists the key IDs, oldest first.
func (k Keys) IDs() []string { return append([]string(nil), k.order...) }

// add puts a key on the ring and makes it current.
func (k *Keys) add(id string, key []byte) error {
	if id == "" || strings.ContainsAny(id, " \t:,") {
		return fmt.Errorf("key ID %q: a word without spaces, colons or commas", id)
	}
	if len(key) != keyBytes {
		return fmt.Errorf("key %s: %d bytes, want %d (AES-256)", id, len(key), keyBytes)
	}
	if _, dup := k.aeads[id]; dup {
		return fmt.Errorf("key %s is listed twice", id)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return fmt.Errorf("key %s: %w", id, err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return fmt.Errorf("key %s: %w", id, err)
	}
	if k.aeads == nil {
		k.aeads = map[string]cipher.AEAD{}
	}
	k.aeads[id] = aead
	k.order = append(k.order, id)
	k.current = id
	return nil
}

// ParseKeys reads a key ring from "ID:BASE64,ID:BASE64" (the form of
// TOCSIN_CODEC_KEYS); the last key is current.
func ParseKeys(s string) (Keys, error) {
	var k Keys
	for i, part := range strings.Split(s, ",") {
		id, b64, ok := strings.Cut(strings.TrimSpace(part), ":")
		if !ok {
			return Keys{}, fmt.Errorf("key %d: want ID:BASE64", i+1)
		}
		key, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			return Keys{}, fmt.Errorf("key %s: not base64: %w", id, err)
		}
		if err := k.add(id, key); err != nil {
			return Keys{}, err
		}
	}
	return k, nil
}

// LoadKeyFile reads a key file: one "ID BASE64" a line, # comments; the
// last key encrypts, so appending a key (`tocsin codec key`) rotates.
func LoadKeyFile(path string) (Keys, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Keys{}, err
	}
	var k Keys
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		if len(fields) != 2 {
			return Keys{}, fmt.Errorf("%s:%d: want \"ID BASE64-KEY\"", path, n)
		}
		key, err := base64.StdEncoding.DecodeString(fields[1])
		if err != nil {
			return Keys{}, fmt.Errorf("%s:%d: key %s is not base64", path, n, fields[0])
		}
		if err := k.add(fields[0], key); err != nil {
			return Keys{}, fmt.Errorf("%s:%d: %w", path, n, err)
		}
	}
	if len(k.order) == 0 {
		return Keys{}, fmt.Errorf("%s: no key (generate one with `tocsin codec key --key-file %s`)", path, path)
	}
	return k, nil
}

// NewKeyLine makes a fresh key as a key-file line, its ID from the time.
func NewKeyLine(now time.Time) (string, error) {
	key := make([]byte, keyBytes)
	if _, err := rand.Read(key); err != nil {
		return "", err
	}
	return fmt.Sprintf("k%s %s", now.UTC().Format("20060102T150405"), base64.StdEncoding.EncodeToString(key)), nil
}

// AppendKey adds a fresh key to a key file (made 0600 if it is new); it
// becomes the one that encrypts. It returns the new key's ID.
func AppendKey(path string, now time.Time) (string, error) {
	line, err := NewKeyLine(now)
	if err != nil {
		return "", err
	}
	if existing, err := LoadKeyFile(path); err == nil {
		for _, id := range existing.order {
			if id == strings.Fields(line)[0] {
				return "", fmt.Errorf("%s already has key %s: wait a second", path, id)
			}
		}
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return "", err
	}
	if _, err := fmt.Fprintln(f, line); err != nil {
		f.Close()
		return "", err
	}
	return strings.Fields(line)[0], f.Close()
}

// EnsureKeyFile makes a key file with one key unless it exists.
func EnsureKeyFile(path string) (Keys, error) {
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		if _, err := AppendKey(path, time.Now()); err != nil {
			return Keys{}, err
		}
	}
	return LoadKeyFile(path)
}

// Codec is the converter.PayloadCodec that encrypts with the ring.
type Codec struct{ Keys Keys }

// Encode encrypts each payload whole (data and metadata) under the current key.
func (c Codec) Encode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	aead := c.Keys.aeads[c.Keys.current]
	if aead == nil {
		return nil, errors.New("codec: no key to encrypt with")
	}
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		plain, err := proto.Marshal(p)
		if err != nil {
			return nil, err
		}
		nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plain)+aead.Overhead())
		if _, err := rand.Read(nonce); err != nil {
			return nil, err
		}
		id := c.Keys.current
		out[i] = &commonpb.Payload{
			Metadata: map[string][]byte{converter.MetadataEncoding: []byte(Encoding), MetadataKeyID: []byte(id)},
			// The key ID is bound to the ciphertext: a payload relabelled
			// with another key's ID does not decrypt.
			Data: aead.Seal(nonce, nonce, plain, []byte(id)),
		}
	}
	return out, nil
}

// Decode decrypts Tocsin's payloads and passes any other through.
func (c Codec) Decode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		if string(p.GetMetadata()[converter.MetadataEncoding]) != Encoding {
			out[i] = p
			continue
		}
		id := string(p.Metadata[MetadataKeyID])
		aead := c.Keys.aeads[id]
		if aead == nil {
			return nil, fmt.Errorf("%w: %q (loaded: %s)", ErrUnknownKey, id, strings.Join(c.Keys.order, ", "))
		}
		n := aead.NonceSize()
		if len(p.Data) < n {
			return nil, fmt.Errorf("payload under key %s is too short to be ciphertext", id)
		}
		plain, err := aead.Open(nil, p.Data[:n], p.Data[n:], []byte(id))
		if err != nil {
			return nil, fmt.Errorf("payload under key %s does not decrypt: %w", id, err)
		}
		var orig commonpb.Payload
		if err := proto.Unmarshal(plain, &orig); err != nil {
			return nil, fmt.Errorf("payload under key %s: %w", id, err)
		}
		out[i] = &orig
	}
	return out, nil
}

// Converters are the data and failure converters a Temporal client (and
// so its workers) or a replayer uses with the ring: failures carry their
// message and stack in encoded attributes, so they are encrypted too.
func Converters(k Keys) (converter.DataConverter, converter.FailureConverter) {
	dc := converter.NewCodecDataConverter(converter.GetDefaultDataConverter(), Codec{Keys: k})
	return dc, temporal.NewDefaultFailureConverter(temporal.DefaultFailureConverterOptions{DataConverter: dc, EncodeCommonAttributes: true})
}
