-- Cancellations the workers may not have heard of. A cancel is recorded with the job's change, in its transaction,
-- and the row is deleted once Kafka has the cancellation (on conveyor.control); an api that died in between, or a
-- Kafka it could not reach, leaves the row, and every api instance sends such cancellations again until Kafka has
-- them. Without it a job cancelled while its record waited on Kafka ran anyway (its outcome then ignored), and a
-- running attempt was not interrupted. Rows live for seconds; the table is empty nearly always.
CREATE TABLE unsent_cancels (
    job_id       uuid        NOT NULL,
    generation   integer     NOT NULL,
    requested_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (job_id, generation)
);
