package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"slices"
	"time"
)

// Inquiry statuses.
const (
	InquiryOpen     = "open"
	InquiryAnswered = "answered"
	InquiryClosed   = "closed"
)

// Inquiry is a question a notified person asked about their notice, and
// support's answer.
type Inquiry struct {
	ID         string    `json:"id"`
	IncidentID string    `json:"incident_id"`
	SubjectID  string    `json:"subject_id"`
	Channel    string    `json:"channel"`
	Question   string    `json:"question"`
	AskedAt    time.Time `json:"asked_at"`
	Status     string    `json:"status"`
	Answer     string    `json:"answer,omitempty"`
	AnsweredBy string    `json:"answered_by,omitempty"`
	AnsweredAt time.Time `json:"answered_at,omitzero"`
	// ReplyTo is where a question that came by text message came from:
	// the answer goes back there. Personal data: never in the API's JSON.
	ReplyTo string `json:"-"`
	// AnswerRef is the provider's ID of the answer sent on that channel.
	AnswerRef string `json:"answer_ref,omitempty"`
}

// AddInquiry records a person's question; its ID is returned.
func (s *Store) AddInquiry(ctx context.Context, q Inquiry) (string, error) {
	b := make([]byte, 5)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	q.ID = "Q-" + hex.EncodeToString(b)
	_, err := s.exec(ctx, `INSERT INTO inquiries (id, incident_id, subject_id, channel, question, asked_at, status, reply_to) VALUES (?,?,?,?,?,?,?,?)`,
		q.ID, q.IncidentID, q.SubjectID, q.Channel, q.Question, formatTime(q.AskedAt), InquiryOpen, q.ReplyTo)
	return q.ID, err
}

const inquiryCols = `id, incident_id, subject_id, channel, question, asked_at, status, answer, answered_by, answered_at, reply_to, answer_ref`

func scanInquiries(rows *sql.Rows) ([]Inquiry, error) {
	defer rows.Close()
	var out []Inquiry
	for rows.Next() {
		var q Inquiry
		var asked, answered string
		if err := rows.Scan(&q.ID, &q.IncidentID, &q.SubjectID, &q.Channel, &q.Question, &asked, &q.Status, &q.Answer, &q.AnsweredBy, &answered, &q.ReplyTo, &q.AnswerRef); err != nil {
			return nil, err
		}
		q.AskedAt = parseTime(asked)
		if answered != "" {
			q.AnsweredAt = parseTime(answered)
		}
		out = append(out, q)
	}
	return out, rows.Err()
}

// Inquiries lists questions, oldest first: of one incident ("" for all),
// in one status ("" for any), at most limit.
func (s *Store) Inquiries(ctx context.Context, incidentID, status string, limit int) ([]Inquiry, error) {
	rows, err := s.query(ctx, `SELECT `+inquiryCols+` FROM inquiries WHERE (?='' OR incident_id=?) AND (?='' OR status=?) ORDER BY asked_at, id LIMIT ?`,
		incidentID, incidentID, status, status, limit)
	if err != nil {
		return nil, err
	}
	return scanInquiries(rows)
}

// InquiriesOf lists one person's questions about an incident, oldest first.
func (s *Store) InquiriesOf(ctx context.Context, incidentID, subjectID string) ([]Inquiry, error) {
	rows, err := s.query(ctx, `SELECT `+inquiryCols+` FROM inquiries WHERE incident_id=? AND subject_id=? ORDER BY asked_at, id`, incidentID, subjectID)
	if err != nil {
		return nil, err
	}
	return scanInquiries(rows)
}

// GetInquiry reads one question.
func (s *Store) GetInquiry(ctx context.Context, id string) (Inquiry, error) {
	rows, err := s.query(ctx, `SELECT `+inquiryCols+` FROM inquiries WHERE id=?`, id)
	if err != nil {
		return Inquiry{}, err
	}
	qs, err := scanInquiries(rows)
	if err == nil && len(qs) == 0 {
		err = fmt.Errorf("inquiry %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return Inquiry{}, err
	}
	return qs[0], nil
}

// AnswerInquiry records support's answer (a later answer replaces it).
func (s *Store) AnswerInquiry(ctx context.Context, id, answer, by string, at time.Time) error {
	res, err := s.exec(ctx, `UPDATE inquiries SET status=?, answer=?, answered_by=?, answered_at=? WHERE id=?`, InquiryAnswered, answer, by, formatTime(at), id)
	return oneRow(res, err, id)
}

// AnswerSent records the provider's ID of an answer sent back on the
// channel the question came in on.
func (s *Store) AnswerSent(ctx context.Context, id, ref string) error {
	_, err := s.exec(ctx, `UPDATE inquiries SET answer_ref=? WHERE id=?`, ref, id)
	return err
}

// CloseInquiry ends a question: answered, or needing no answer.
func (s *Store) CloseInquiry(ctx context.Context, id string) error {
	res, err := s.exec(ctx, `UPDATE inquiries SET status=? WHERE id=?`, InquiryClosed, id)
	return oneRow(res, err, id)
}

func oneRow(res sql.Result, err error, id string) error {
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("inquiry %s: %w", id, ErrNotFound)
	}
	return nil
}

// InquiryStats counts an incident's questions and how fast they were
// answered.
type InquiryStats struct {
	Asked    int `json:"asked"`
	Open     int `json:"open"`
	Answered int `json:"answered"`
	// MedianAnswerSeconds is the median time from question to answer.
	MedianAnswerSeconds int `json:"median_answer_seconds"`
	// ByChannel counts questions by where they were asked (web, sms).
	ByChannel map[string]int `json:"by_channel,omitempty"`
	// OptedOut counts people who replied STOP to the incident's texts.
	OptedOut int `json:"opted_out"`
}

// InquiryStatsOf counts an incident's questions.
func (s *Store) InquiryStatsOf(ctx context.Context, incidentID string) (InquiryStats, error) {
	qs, err := s.Inquiries(ctx, incidentID, "", 1_000_000)
	if err != nil {
		return InquiryStats{}, err
	}
	var st InquiryStats
	var waits []time.Duration
	if st.OptedOut, err = s.OptedOut(ctx, incidentID); err != nil {
		return InquiryStats{}, err
	}
	for _, q := range qs {
		st.Asked++
		if st.ByChannel == nil {
			st.ByChannel = map[string]int{}
		}
		st.ByChannel[q.Channel]++
		if q.Status == InquiryOpen {
			st.Open++
		}
		if !q.AnsweredAt.IsZero() {
			st.Answered++
			waits = append(waits, q.AnsweredAt.Sub(q.AskedAt))
		}
	}
	if len(waits) > 0 {
		slices.Sort(waits)
		st.MedianAnswerSeconds = int(waits[len(waits)/2].Seconds())
	}
	return st, nil
}
