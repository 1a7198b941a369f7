-- Tenants: every job belongs to the tenant of the API key that submitted it ('default' when the api runs without
-- keys). A tenant's requests only ever match its own rows.
--
-- A constant default fills the column without rewriting the table.
ALTER TABLE jobs ADD COLUMN tenant text NOT NULL DEFAULT 'default';

-- Idempotency keys are per tenant: one tenant reusing another's key neither replays nor conflicts with its job.
DROP INDEX jobs_idempotency_key_idx;
CREATE UNIQUE INDEX jobs_tenant_idempotency_key_idx ON jobs (tenant, idempotency_key)
    WHERE idempotency_key IS NOT NULL;

-- A tenant's newest jobs, for GET /v1/jobs with a key of that tenant. Partial, so that an api used without
-- tenants (every job 'default') pays for no extra index entry per job; the 'default' tenant's listing reads the
-- primary key, where nearly every row is its own. Queries for another tenant repeat the predicate
-- (tenant <> 'default') so that the planner may use this index with a generic plan too.
CREATE INDEX jobs_tenant_id_idx ON jobs (tenant, id DESC) WHERE tenant <> 'default';

-- The dispatcher's question, per (queue, tenant): which jobs are due and not on Kafka yet? It takes an equal share
-- of each tenant's due jobs (see TenantWindows), oldest first (in submission order when due at the same time), finding
-- the tenants with a skip scan over this index.
DROP INDEX jobs_due_idx;
CREATE INDEX jobs_due_idx ON jobs (queue, tenant, run_at, id)
    WHERE dispatched_at IS NULL AND status IN ('SCHEDULED', 'QUEUED');

-- API keys made through the api (POST /v1/keys), and revocations of keys given in configuration (a row with no
-- hash). Only a hash of each key is stored: SHA-256 of a key of 256 random bits, which cannot be reversed.
CREATE TABLE api_keys (
    id         text        PRIMARY KEY,
    name       text        NOT NULL,
    tenant     text        NOT NULL,
    scopes     text[]      NOT NULL,
    hash       text        UNIQUE,
    created_at timestamptz NOT NULL,
    revoked_at timestamptz
);
