-- A runner's lease, so that anyone can tell a live runner from a dead one: its heartbeat
-- comes every third of its lease, and a runner silent for longer than its lease is dead
-- (its claims lapse and its jobs run again elsewhere).
ALTER TABLE runner ADD COLUMN lease_s real;
COMMENT ON COLUMN runner.lease_s IS 'Seconds its claims survive without a heartbeat (it beats every third of that)';
