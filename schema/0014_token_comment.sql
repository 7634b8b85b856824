-- Since 0009 a job that ends DONE in a runner's batched commit keeps its last token (its
-- final attempt is read from the job row).
COMMENT ON COLUMN job.token IS
    'Fencing token of the current claim (a runner may commit only while it still holds it); a DONE job keeps its last one';
