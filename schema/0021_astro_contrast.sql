-- The astrometric match's contrast is now a significance (-log10 of the chance that random
-- pairs make as high a peak), which means the same in sparse and crowded fields.
COMMENT ON COLUMN mosaic.astro_contrast IS
    'How clearly the astrometric offset was found: -log10 of the chance that random pairs make as high a matching peak (under 6: no_match)';
