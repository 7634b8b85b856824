-- The SQL browser's role: it may read every table and nothing else. Its statement
-- timeout is a role setting; where the PAUdm server guard is loaded (the embedded
-- server always loads it) the role also cannot raise it.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'paudm_reader') THEN
        IF NOT (SELECT rolcreaterole OR rolsuper FROM pg_roles WHERE rolname = current_user) THEN
            RAISE EXCEPTION 'role paudm_reader does not exist and % may not create roles', current_user
                USING HINT = 'Ask the database administrator to run: CREATE ROLE paudm_reader LOGIN; then migrate again.';
        END IF;
        BEGIN
            CREATE ROLE paudm_reader LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT NOREPLICATION NOBYPASSRLS
                CONNECTION LIMIT 32;
        EXCEPTION WHEN duplicate_object THEN
            NULL; -- created meanwhile by the migration of another database of this cluster
        END;
    END IF;
    COMMENT ON ROLE paudm_reader IS 'PAUdm SQL browser: read-only, with a statement timeout it cannot raise';
END $$;

ALTER ROLE paudm_reader SET statement_timeout = '30s';
ALTER ROLE paudm_reader SET default_transaction_read_only = on;
ALTER ROLE paudm_reader SET idle_in_transaction_session_timeout = '5min';

-- No CREATE anywhere, no temporary tables: owners and superusers keep theirs.
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
DO $$ BEGIN EXECUTE format('REVOKE TEMPORARY ON DATABASE %I FROM PUBLIC', current_database()); END $$;
GRANT USAGE ON SCHEMA public TO paudm_reader;
GRANT SELECT ON ALL TABLES IN SCHEMA public TO paudm_reader;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO paudm_reader;
