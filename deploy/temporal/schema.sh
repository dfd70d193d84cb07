#!/bin/sh
# Creates and migrates Temporal's two databases on PostgreSQL (idempotent:
# a second run finds them and applies only newer schema versions). The
# same steps the cluster test runs.
set -eu
: "${TEMPORAL_DB_HOST:=127.0.0.1}" "${TEMPORAL_DB_PORT:=5432}" "${TEMPORAL_DB_USER:=temporal}" "${TEMPORAL_DB_PASSWORD:?set TEMPORAL_DB_PASSWORD}"
: "${TEMPORAL_DB:=temporal}" "${TEMPORAL_VISIBILITY_DB:=temporal_visibility}"
tool() { temporal-sql-tool --plugin postgres12 --ep "$TEMPORAL_DB_HOST" -p "$TEMPORAL_DB_PORT" -u "$TEMPORAL_DB_USER" --pw "$TEMPORAL_DB_PASSWORD" "$@"; }
for pair in "$TEMPORAL_DB:temporal" "$TEMPORAL_VISIBILITY_DB:visibility"; do
  db=${pair%%:*} schema=${pair##*:}
  tool --db "$db" create-database 2>/dev/null || true # exists already
  tool --db "$db" setup-schema -v 0.0 2>/dev/null || true # versioned already
  tool --db "$db" update-schema --schema-name "postgresql/v12/$schema"
done
