-- The country of each centre (ISO 3166-1 alpha-3, e.g. CHN), reported in SDTM DM.COUNTRY.
-- Sites created before this migration have none until an administrator records it.
ALTER TABLE sites ADD COLUMN country TEXT;
