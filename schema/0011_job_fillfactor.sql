-- Room on each page of the job table for a new version of every row on it. A runner
-- claims its jobs in batches of consecutive ids, so one transaction updates every row of
-- a page; at fillfactor 70 most of those updates did not fit on the page, could not be
-- HOT, and wrote new entries into every index of the table (measured on 20,000 no-op jobs:
-- 43 % of the updates were HOT with 2 runner threads, 35 % with 4; at 50: 67 % and 55 %,
-- and the run took 20 % less time). Pages written from now on use it; VACUUM FULL job
-- rewrites the older ones.
ALTER TABLE job SET (fillfactor = 50);
