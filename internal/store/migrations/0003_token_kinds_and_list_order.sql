-- Tokens from before kind: sessions were the ones with an expiry.
UPDATE tokens SET kind = CASE WHEN expires_at <> '' THEN 'session' ELSE 'api' END WHERE kind = '';
-- Lists page newest first by (opened_at, id).
CREATE INDEX IF NOT EXISTS incidents_by_opened ON incidents (opened_at, id);
