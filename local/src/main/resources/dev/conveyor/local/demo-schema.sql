-- The demo database for the built-in `sql` job type, created by `local` and by docker-compose.
-- Its statements are named in the worker's conveyor-worker-demo.yml (profile `demo`).
CREATE TABLE city (
    name       text PRIMARY KEY,
    country    text NOT NULL,
    population bigint NOT NULL,
    founded    date,
    details    jsonb NOT NULL DEFAULT '{}'
);

INSERT INTO city (name, country, population, founded, details) VALUES
    ('Lisbon', 'PT', 545000, '1147-10-25', '{"river": "Tagus", "capital": true}'),
    ('Porto', 'PT', 232000, NULL, '{"river": "Douro", "capital": false}'),
    ('Vienna', 'AT', 2005000, NULL, '{"river": "Danube", "capital": true}'),
    ('Kyoto', 'JP', 1460000, '0794-11-18', '{"capital": false}');

CREATE TABLE visit (
    id      bigserial PRIMARY KEY,
    city    text NOT NULL REFERENCES city (name),
    visitor text NOT NULL,
    at      timestamptz NOT NULL DEFAULT now()
);
