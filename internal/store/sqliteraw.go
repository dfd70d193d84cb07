package store

import (
	"fmt"
	"unsafe"

	"modernc.org/libc"
	sqlite3 "modernc.org/sqlite/lib"
)

// rawConn is a SQLite connection of its own for bulk loads, driven through
// SQLite's C API as modernc.org/sqlite translates it, not database/sql.
// Per row, database/sql and the driver cost as much as SQLite's own
// work: a C string allocated per value, a mutex taken per value, and the
// connection's serialized-mode mutex around every call. This connection
// is opened without SQLite's mutexes (one goroutine uses it at a time) and
// binds each row's text from one reused C buffer.
type rawConn struct {
	tls *libc.TLS
	db  uintptr
	// buf holds the current row's text values, bound SQLITE_STATIC: they
	// must stay put until the row is stepped, and grow only between rows.
	buf    uintptr
	bufLen int
}

const ptrSize = int(unsafe.Sizeof(uintptr(0)))

// cMem is the address of memory the SQLite translation allocated (outside
// Go's heap, never moved or collected) as a pointer. Only such addresses
// cross between Go and the translated C: a Go pointer handed over as a
// number is not followed by the collector (and checkptr refuses it).
func cMem(p uintptr) unsafe.Pointer { return unsafe.Add(nil, p) }

// rawError is an error SQLite returned, with its result code.
type rawError struct {
	code int32
	msg  string
}

func (e *rawError) Error() string { return fmt.Sprintf("sqlite: %s (%d)", e.msg, e.code) }

// openRaw opens the store's file read-write, named as the store's own
// connection names it.
func openRaw(path string) (*rawConn, error) {
	c := &rawConn{tls: libc.NewTLS()}
	err := c.open("file:" + path)
	if err != nil {
		err = fmt.Errorf("open %s for loading: %w", path, err)
	} else {
		// The store's own settings, so that what the load commits is as
		// durable as any other write and a busy store is waited for, not
		// failed.
		err = c.exec("PRAGMA busy_timeout=10000; PRAGMA synchronous=FULL; PRAGMA cache_size=-16000; PRAGMA temp_store=FILE; PRAGMA foreign_keys=ON")
	}
	if err != nil {
		c.close()
		return nil, err
	}
	return c, nil
}

// open opens name; what it allocates for the call is freed before it
// returns, so that close, on failure, comes after.
func (c *rawConn) open(name string) error {
	cname, err := libc.CString(name)
	if err != nil {
		return err
	}
	defer libc.Xfree(c.tls, cname)
	out := c.tls.Alloc(ptrSize)
	defer c.tls.Free(ptrSize)
	rc := sqlite3.Xsqlite3_open_v2(c.tls, cname, out, sqlite3.SQLITE_OPEN_READWRITE|sqlite3.SQLITE_OPEN_NOMUTEX|sqlite3.SQLITE_OPEN_URI, 0)
	c.db = *(*uintptr)(cMem(out)) // set even on failure, for the message and to be closed
	if rc != sqlite3.SQLITE_OK {
		return c.errorOf(rc)
	}
	return nil
}

func (c *rawConn) errorOf(rc int32) error {
	e := &rawError{code: rc}
	if c.db != 0 {
		e.msg = libc.GoString(sqlite3.Xsqlite3_errmsg(c.tls, c.db))
	} else {
		e.msg = libc.GoString(sqlite3.Xsqlite3_errstr(c.tls, rc))
	}
	return e
}

func (c *rawConn) exec(q string) error {
	cq, err := libc.CString(q)
	if err != nil {
		return err
	}
	defer libc.Xfree(c.tls, cq)
	if rc := sqlite3.Xsqlite3_exec(c.tls, c.db, cq, 0, 0, 0); rc != sqlite3.SQLITE_OK {
		return fmt.Errorf("%.60s: %w", q, c.errorOf(rc))
	}
	return nil
}

func (c *rawConn) close() {
	if c.buf != 0 {
		libc.Xfree(c.tls, c.buf)
		c.buf, c.bufLen = 0, 0
	}
	if c.db != 0 {
		sqlite3.Xsqlite3_close_v2(c.tls, c.db)
		c.db = 0
	}
	c.tls.Close()
}

// rawStmt is a prepared statement of a rawConn.
type rawStmt struct {
	c    *rawConn
	stmt uintptr
}

func (c *rawConn) prepare(q string) (*rawStmt, error) {
	cq, err := libc.CString(q)
	if err != nil {
		return nil, err
	}
	defer libc.Xfree(c.tls, cq)
	out := c.tls.Alloc(ptrSize)
	defer c.tls.Free(ptrSize)
	if rc := sqlite3.Xsqlite3_prepare_v2(c.tls, c.db, cq, -1, out, 0); rc != sqlite3.SQLITE_OK {
		return nil, fmt.Errorf("prepare %.60s: %w", q, c.errorOf(rc))
	}
	return &rawStmt{c: c, stmt: *(*uintptr)(cMem(out))}, nil
}

func (s *rawStmt) finalize() { sqlite3.Xsqlite3_finalize(s.c.tls, s.stmt) }

// insert binds vals to the statement's parameters, in order, and runs it.
func (s *rawStmt) insert(vals []loadValue) error {
	c := s.c
	text := 0
	for _, v := range vals {
		text += len(v.text)
	}
	// Always a buffer, even for a row of empty strings: a null pointer
	// would bind NULL, not ''.
	if c.buf == 0 || text > c.bufLen {
		size := max(text, 2*c.bufLen, 4096)
		if c.buf != 0 {
			libc.Xfree(c.tls, c.buf)
		}
		if c.buf = libc.Xmalloc(c.tls, uint64(size)); c.buf == 0 {
			c.bufLen = 0
			return fmt.Errorf("sqlite load: out of memory for a row of %d bytes", text)
		}
		c.bufLen = size
	}
	off := uintptr(0)
	for i, v := range vals {
		idx := int32(i + 1)
		var rc int32
		switch v.kind {
		case textValue:
			p := c.buf + off
			copy(unsafe.Slice((*byte)(cMem(p)), len(v.text)), v.text)
			rc = sqlite3.Xsqlite3_bind_text(c.tls, s.stmt, idx, p, int32(len(v.text)), 0) // SQLITE_STATIC
			off += uintptr(len(v.text))
		case intValue:
			rc = sqlite3.Xsqlite3_bind_int64(c.tls, s.stmt, idx, v.num)
		default:
			rc = sqlite3.Xsqlite3_bind_null(c.tls, s.stmt, idx)
		}
		if rc != sqlite3.SQLITE_OK {
			return fmt.Errorf("sqlite load: bind parameter %d: %w", idx, c.errorOf(rc))
		}
	}
	rc := sqlite3.Xsqlite3_step(c.tls, s.stmt)
	sqlite3.Xsqlite3_reset(c.tls, s.stmt)
	if rc != sqlite3.SQLITE_DONE {
		return c.errorOf(rc)
	}
	return nil
}
