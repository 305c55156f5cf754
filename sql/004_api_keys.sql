-- 004_api_keys.sql -- API keys (auth.enabled), managed with lexrag-keys. Only the SHA-256
-- digest of a key is stored, never the key, and its first characters for display. Workers
-- read the keys that are not revoked every auth.refresh_ms; a revoked key keeps its row (and
-- its name) so that `lexrag-keys list` still shows it.
CREATE TABLE api_keys (
    id            bigserial PRIMARY KEY,
    name          text NOT NULL UNIQUE
                  CHECK (name ~ '^[A-Za-z0-9._@-]{1,64}$'),
    key_hash      bytea NOT NULL UNIQUE CHECK (octet_length(key_hash) = 32),
    prefix        text NOT NULL CHECK (length(prefix) <= 16),    -- "lxk_AbCd"
    rate_per_min  integer CHECK (rate_per_min BETWEEN 0 AND 1000000), -- NULL: auth.rate_per_min
    created_at    timestamptz NOT NULL DEFAULT now(),
    revoked_at    timestamptz
);
