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
	// users are callers between get (or peek) and their release; an
	// evicted statement closes when the last lets go, as a closed one
	// would fail a call that had it in hand. Rows a query left open keep
	// it themselves (database/sql closes it after them).
	users   int
	evicted bool
}

// release lets go of a statement get or peek handed out.
func (c *stmtCache) release(e *cachedStmt) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e.users--
	if e.evicted && e.users == 0 {
		e.stmt.Close()
	}
}

func noRelease() {}

// stmtCacheSize bounds the statements kept: a chunk's claim has a text per
// chunk size, and an incident's tables are named by it.
const stmtCacheSize = 256

func newStmtCache(db *sql.DB) *stmtCache {
	return &stmtCache{db: db, limit: stmtCacheSize, byQ: map[string]*list.Element{}, order: list.New()}
}

// cacheable says whether q is one statement that reads or writes rows, or
// marks a savepoint (grouped writes run three each): preparing compiles
// only a text's first statement, and DDL is run once.
func cacheable(q string) bool {
	if strings.Contains(q, ";") {
		return false
	}
	head := strings.ToUpper(strings.TrimSpace(q))
	for _, verb := range []string{"SELECT", "INSERT", "UPDATE", "DELETE", "WITH", "SAVEPOINT", "RELEASE", "ROLLBACK TO"} {
		if strings.HasPrefix(head, verb) {
			return true
		}
	}
	return false
}

// get is q's prepared statement (nil when q is not cached) and the
// release the caller calls once its call with it has returned.
func (c *stmtCache) get(ctx context.Context, q string) (*sql.Stmt, func(), error) {
	if c == nil || !cacheable(q) {
		return nil, noRelease, nil
	}
	if st, release := c.peek(q); st != nil {
		return st, release, nil
	}
	st, err := c.db.PrepareContext(ctx, q)
	if err != nil {
		return nil, noRelease, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.byQ[q]; ok { // prepared meanwhile by another goroutine
		st.Close()
		e := el.Value.(*cachedStmt)
		e.users++
		return e.stmt, func() { c.release(e) }, nil
	}
	e := &cachedStmt{q: q, stmt: st, users: 1}
	c.byQ[q] = c.order.PushFront(e)
	for c.order.Len() > c.limit {
		old := c.order.Remove(c.order.Back()).(*cachedStmt)
		delete(c.byQ, old.q)
		old.evicted = true
		if old.users == 0 {
			old.stmt.Close()
		}
	}
	return st, func() { c.release(e) }, nil
}

// warm prepares and keeps the texts a caller is about to run within a
// transaction, where peek cannot prepare them.
func (c *stmtCache) warm(ctx context.Context, qs ...string) error {
	for _, q := range qs {
		_, release, err := c.get(ctx, q)
		release()
		if err != nil {
			return err
		}
	}
	return nil
}

// peek is q's statement if it is kept, without preparing it: within a
// transaction, which holds SQLite's one connection, preparing on the
// database would wait for that connection forever.
func (c *stmtCache) peek(q string) (*sql.Stmt, func()) {
	if c == nil {
		return nil, noRelease
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.byQ[q]; ok {
		c.order.MoveToFront(el)
		e := el.Value.(*cachedStmt)
		e.users++
		return e.stmt, func() { c.release(e) }
	}
	return nil, noRelease
}

// close closes every statement kept.
func (c *stmtCache) close() {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, el := range c.byQ {
		el.Value.(*cachedStmt).stmt.Close() // the store is closing: no call is under way
	}
	c.byQ, c.order = map[string]*list.Element{}, list.New()
}
