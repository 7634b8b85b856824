-- The job engine's state transitions, kept in the database so that each one is a single
-- round trip and holds under any number of concurrent runners. Row locks are taken in
-- one order (the job, its dependents, its super-job) to keep deadlocks rare; callers
-- retry a transaction that loses a deadlock anyway.

-- Its functions, views and triggers are in schema/functions/ (re-applied when they change).
