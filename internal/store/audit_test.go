package store_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tocsin/tocsin/internal/store"
	"github.com/tocsin/tocsin/internal/store/storetest"
)

func TestAuditChainStaysUnbrokenUnderConcurrentWritersAndShowsTampering(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		var wg sync.WaitGroup
		errs := make(chan error, 40)
		for w := 0; w < 4; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < 10; i++ {
					_, err := s.AppendAudit(ctx, store.AuditEntry{Chain: "INC-A", Actor: fmt.Sprintf("legal%d@example.com", w), Role: "legal", Via: "api",
						Action: "approve", Outcome: store.AuditDone, Detail: map[string]string{"draft": "notice-en", "revision": fmt.Sprint(i)}})
					errs <- err
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			require.NoError(t, err)
		}
		_, err := s.AppendAudit(ctx, store.AuditEntry{Chain: "INC-B", Actor: "responder@example.com", Role: "responder", Via: "api", Action: "open", Outcome: store.AuditDone})
		require.NoError(t, err)

		log, err := s.AuditLog(ctx, "INC-A")
		require.NoError(t, err)
		require.Len(t, log, 40, "every append is kept, once")
		require.NoError(t, store.VerifyAuditChain(log))
		other, err := s.AuditLog(ctx, "INC-B")
		require.NoError(t, err)
		require.Len(t, other, 1, "each incident has its own chain")
		require.Equal(t, store.AuditGenesis, other[0].PrevHash)

		changed := append([]store.AuditEntry(nil), log...)
		changed[7].Detail = map[string]string{"draft": "notice-en", "revision": "99"}
		require.ErrorContains(t, store.VerifyAuditChain(changed), "audit entry 8")
		require.ErrorContains(t, store.VerifyAuditChain(append(log[:3:3], log[4:]...)), "missing or out of order")
	})
}

func TestAChainWrittenBeforeAuditHeadsContinuesUnbroken(t *testing.T) {
	for _, backend := range storetest.Backends(t) {
		t.Run(backend, func(t *testing.T) {
			ctx := context.Background()
			dsn := storetest.DSN(t, backend)
			s, err := store.Open(dsn)
			require.NoError(t, err)
			for i := 0; i < 3; i++ {
				_, err := s.AppendAudit(ctx, store.AuditEntry{Chain: "INC-OLD", Actor: "responder@example.com", Role: "responder", Via: "cli", Action: "note", Outcome: store.AuditDone})
				require.NoError(t, err)
			}
			require.NoError(t, s.Close())
			// An earlier Tocsin kept no heads (the chain's end was its last
			// row), and numbered no migrations.
			asEarlierTocsinLeftIt(t, backend, dsn, `DROP TABLE audit_heads`, `DROP TABLE schema_migrations`,
				`ALTER TABLE snapshot_counts DROP COLUMN reach`, `ALTER TABLE snapshot_counts DROP COLUMN consent`, `DROP TABLE scope_reach`)

			s, err = store.Open(dsn)
			require.NoError(t, err)
			defer s.Close()
			e, err := s.AppendAudit(ctx, store.AuditEntry{Chain: "INC-OLD", Actor: "legal@example.com", Role: "legal", Via: "api", Action: "approve", Outcome: store.AuditDone})
			require.NoError(t, err)
			require.Equal(t, int64(4), e.Seq)
			log, err := s.AuditLog(ctx, "INC-OLD")
			require.NoError(t, err)
			require.Len(t, log, 4)
			require.NoError(t, store.VerifyAuditChain(log))
		})
	}
}
