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

-- Jobs by (tenant, queue, status), so that a tenant's waiting jobs can be counted for conveyor.api.limits
-- .queued-per-tenant from a few rows. Every job so far is the default tenant's, which is what the new column says.
-- Counter rows are upserted in (tenant, queue, status) order, the key's order, so that statements sharing a slot
-- lock them in the same order and cannot deadlock (see V2).
ALTER TABLE queue_counts ADD COLUMN tenant text NOT NULL DEFAULT 'default';
ALTER TABLE queue_counts DROP CONSTRAINT queue_counts_pkey;
ALTER TABLE queue_counts ADD PRIMARY KEY (tenant, queue, status, slot);

CREATE OR REPLACE FUNCTION queue_counts_add_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO queue_counts AS c (tenant, queue, status, slot, n)
    SELECT tenant, queue, status, pg_backend_pid() % 16, count(*)
    FROM inserted_jobs
    GROUP BY tenant, queue, status
    ORDER BY tenant, queue, status
    ON CONFLICT (tenant, queue, status, slot) DO UPDATE SET n = c.n + excluded.n;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION queue_counts_move_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO queue_counts AS c (tenant, queue, status, slot, n)
    SELECT tenant, queue, status, pg_backend_pid() % 16, sum(d)
    FROM (SELECT tenant, queue, status, 1 AS d FROM new_jobs
          UNION ALL
          SELECT tenant, queue, status, -1 FROM old_jobs) moved
    GROUP BY tenant, queue, status
    HAVING sum(d) <> 0
    ORDER BY tenant, queue, status
    ON CONFLICT (tenant, queue, status, slot) DO UPDATE SET n = c.n + excluded.n;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION queue_counts_subtract_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO queue_counts AS c (tenant, queue, status, slot, n)
    SELECT tenant, queue, status, pg_backend_pid() % 16, -count(*)
    FROM deleted_jobs
    GROUP BY tenant, queue, status
    ORDER BY tenant, queue, status
    ON CONFLICT (tenant, queue, status, slot) DO UPDATE SET n = c.n + excluded.n;
    RETURN NULL;
END
$$;
