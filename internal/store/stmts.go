package store

import (
	"container/list"
	"context"
	"database/sql"
	"strings"
	"sync"
)

// stmtCache keeps SQLite's prepared statements by their text. On SQLite
// one connection runs every statement in turn, and parsing them again
// took a tenth of a campaign's CPU while holding it (the profile in
// docs/benchmarks.md). PostgreSQL's driver keeps its own.
type stmtCache struct {
	db    *sql.DB
	limit int
	mu    sync.Mutex
	byQ   map[string]*list.Element // of *cachedStmt
	order *list.List               // the most recently used first
}

type cachedStmt struct {
	q    string
	stmt *sql.Stmt
}

// stmtCacheSize bounds the statements kept: a chunk's claim has a text per
// chunk size, and an incident's tables are named by it.
const stmtCacheSize = 256

func newStmtCache(db *sql.DB) *stmtCache {
	return &stmtCache{db: db, limit: stmtCacheSize, byQ: map[string]*list.Element{}, order: list.New()}
}

// cacheable says whether q is one statement that reads or writes rows:
// preparing compiles only a text's first statement, and DDL is run once.
func cacheable(q string) bool {
	if strings.Contains(q, ";") {
		return false
	}
	head := strings.ToUpper(strings.TrimSpace(q))
	for _, verb := range []string{"SELECT", "INSERT", "UPDATE", "DELETE", "WITH"} {
		if strings.HasPrefix(head, verb) {
			return true
		}
	}
	return false
}

// get is q's prepared statement (nil when q is not cached). A statement
// evicted while another goroutine runs it closes once that run ends
// (database/sql waits for it).
func (c *stmtCache) get(ctx context.Context, q string) (*sql.Stmt, error) {
	if c == nil || !cacheable(q) {
		return nil, nil
	}
	c.mu.Lock()
	if e, ok := c.byQ[q]; ok {
		c.order.MoveToFront(e)
		st := e.Value.(*cachedStmt).stmt
		c.mu.Unlock()
		return st, nil
	}
	c.mu.Unlock()
	st, err := c.db.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.byQ[q]; ok { // prepared meanwhile by another goroutine
		st.Close()
		return e.Value.(*cachedStmt).stmt, nil
	}
	c.byQ[q] = c.order.PushFront(&cachedStmt{q: q, stmt: st})
	for c.order.Len() > c.limit {
		old := c.order.Remove(c.order.Back()).(*cachedStmt)
		delete(c.byQ, old.q)
		old.stmt.Close()
	}
	return st, nil
}

// peek is q's statement if it is kept, without preparing it: within a
// transaction, which holds SQLite's one connection, preparing on the
// database would wait for that connection forever.
func (c *stmtCache) peek(q string) *sql.Stmt {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.byQ[q]; ok {
		c.order.MoveToFront(e)
		return e.Value.(*cachedStmt).stmt
	}
	return nil
}

// close closes every statement kept.
func (c *stmtCache) close() {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, e := range c.byQ {
		e.Value.(*cachedStmt).stmt.Close()
	}
	c.byQ, c.order = map[string]*list.Element{}, list.New()
}
