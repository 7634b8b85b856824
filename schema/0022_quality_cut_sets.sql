-- The nightly report's quality cuts, kept as named, versioned sets (the paper's section
-- 7.3 kept its cuts in the web page): a change of cuts is a new version, so that any
-- night can be judged again by any version and two versions compared before one is made
-- the default.
CREATE TABLE quality_cut_set (
    id         serial PRIMARY KEY,
    name       text NOT NULL CHECK (name ~ '^[A-Za-z0-9_.-]+$'),
    version    integer NOT NULL CHECK (version > 0),
    author     text NOT NULL DEFAULT current_user,
    created    timestamptz NOT NULL DEFAULT now(),
    note       text,
    changes    text NOT NULL,
    definition jsonb NOT NULL CHECK (jsonb_typeof(definition) = 'object'),
    is_default boolean NOT NULL DEFAULT false,
    UNIQUE (name, version)
);
CREATE UNIQUE INDEX quality_cut_set_one_default ON quality_cut_set (is_default) WHERE is_default;
COMMENT ON TABLE quality_cut_set IS
    'Quality cuts of the nightly report, as named and versioned sets: a saved change is a new version, never an edit';
COMMENT ON COLUMN quality_cut_set.id IS 'Cut set version identifier';
COMMENT ON COLUMN quality_cut_set.name IS 'Name of the cut set (letters, digits, _ . -)';
COMMENT ON COLUMN quality_cut_set.version IS 'Version within the name, from 1; the highest is the current one';
COMMENT ON COLUMN quality_cut_set.author IS 'Database user who saved this version';
COMMENT ON COLUMN quality_cut_set.created IS 'When this version was saved';
COMMENT ON COLUMN quality_cut_set.note IS 'Why this version was made, as its author wrote it';
COMMENT ON COLUMN quality_cut_set.changes IS 'What changed against the previous version (generated), or "first version"';
COMMENT ON COLUMN quality_cut_set.definition IS
    'The cuts: {"cuts": [{"quantity": Q, "min": X, "max": Y}, ...], "statuses": {"astro": ["ok"], ...}}; Q one of '
    'the report''s quantities (seeing, transparency, ...) or mosaic.COLUMN / image.COLUMN (the median over the CCDs)';
COMMENT ON COLUMN quality_cut_set.is_default IS 'The version the report applies when none is named (at most one)';

-- The survey's cuts as the nightly pipeline's own QC limits set them.
INSERT INTO quality_cut_set (name, version, author, note, changes, definition, is_default)
VALUES ('survey', 1, 'paudm', 'The limits of the nightly pipeline''s QC', 'first version',
        '{"cuts": [{"quantity": "seeing", "max": 1.3},
                   {"quantity": "transparency", "min": 0.8, "max": 1.25},
                   {"quantity": "astro_rms", "max": 0.1}],
          "statuses": {"detrend": ["ok"], "astro": ["ok"]}}', true);
