-- How often workers gave the job back without running it since its last retry: no room for it under
-- max-in-flight-bytes or a stopping worker on its record's last delivery, or no handler for its type. Such an attempt
-- never started, so it no longer counts as one: the job keeps its attempts and is dispatched again under the same
-- attempt number, and this count (carried by the dispatch, and echoed by the worker that gives it back) tells those
-- dispatches apart, so that a hand-back read twice, or one of an earlier dispatch, changes nothing. Before, each
-- hand-back took an attempt number: a job that ran once showed "attempts": 5 after four, and a job waiting behind
-- full workers could fail after 20 without ever running. An explicit retry starts the count afresh. No index holds
-- it, and it changes only with a hand-back. No CHECK: PostgreSQL would verify it over every row, under a lock that holds
-- reads too (the README's rules for new migrations); only the api writes it, one up at a time.
ALTER TABLE jobs ADD COLUMN hand_backs integer NOT NULL DEFAULT 0;
