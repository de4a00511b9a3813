-- ---------------------------------------------------------------------------
-- Hand-written, the second version of change capture. Does nothing where
-- change capture was not installed (db:migrate --skip-change-capture), so it
-- applies everywhere.
--
-- 1. Wake a watching ETL on change (NOTIFY, below).
-- 2. Stamp log entries with the time of the statement rather than of the
--    transaction's start (the lag metric reads it).
-- 3. TRUNCATE, which row triggers never see, logs a 'reload' entry: the ETL
--    then loads the index in full.
-- 4. The capture triggers fire ALWAYS, also under session_replication_role =
--    replica (a logical-replication subscriber applying changes, a restore
--    that sets it): a catalogue that is a replica is captured too. Bulk loads
--    that must not be captured use SET movies_etl.capture = off.
--
-- The capture triggers call pg_notify('movies_etl_change', '') when they
-- logged something. Postgres folds identical notifications of one transaction
-- into one, delivered at commit. NOTIFY serialises the commits of notifying
-- transactions (a lock on the notification queue): a DBA who prefers not to pay
-- that sets movies_etl.notify = off (e.g. ALTER DATABASE ... SET
-- movies_etl.notify = off), and the watcher falls back to polling.
-- ---------------------------------------------------------------------------
DO $migration$
BEGIN
    IF to_regclass('content.etl_change') IS NULL THEN
        RETURN;
    END IF;

    ALTER TABLE "content"."etl_change" ALTER COLUMN "logged" SET DEFAULT clock_timestamp();

    CREATE OR REPLACE FUNCTION "content"."etl_log_entity_change"() RETURNS trigger
    LANGUAGE plpgsql AS $fn$
    BEGIN
        IF current_setting('movies_etl.capture', true) = 'off' THEN
            RETURN NULL;
        END IF;
        IF TG_OP = 'INSERT' THEN
            INSERT INTO "content"."etl_change" ("entity", "entity_id")
            SELECT DISTINCT TG_ARGV[0], n."id" FROM new_rows n;
        ELSIF TG_OP = 'UPDATE' THEN
            -- A full join so that a changed id logs both the old and the new id.
            INSERT INTO "content"."etl_change" ("entity", "entity_id")
            SELECT DISTINCT TG_ARGV[0], coalesce(n."id", o."id")
            FROM new_rows n FULL JOIN old_rows o ON o."id" = n."id"
            WHERE n IS DISTINCT FROM o;
        ELSIF TG_OP = 'DELETE' THEN
            INSERT INTO "content"."etl_change" ("entity", "entity_id")
            SELECT DISTINCT TG_ARGV[0], o."id" FROM old_rows o;
        END IF;
        IF FOUND AND coalesce(current_setting('movies_etl.notify', true), '') <> 'off' THEN
            PERFORM pg_notify('movies_etl_change', '');
        END IF;
        RETURN NULL;
    END
    $fn$;

    CREATE OR REPLACE FUNCTION "content"."etl_log_film_link_change"() RETURNS trigger
    LANGUAGE plpgsql AS $fn$
    BEGIN
        IF current_setting('movies_etl.capture', true) = 'off' THEN
            RETURN NULL;
        END IF;
        IF TG_OP = 'INSERT' THEN
            INSERT INTO "content"."etl_change" ("entity", "entity_id")
            SELECT DISTINCT 'film_work', n."film_work_id" FROM new_rows n;
        ELSIF TG_OP = 'UPDATE' THEN
            INSERT INTO "content"."etl_change" ("entity", "entity_id")
            SELECT DISTINCT 'film_work', film."id"
            FROM new_rows n FULL JOIN old_rows o ON o."id" = n."id"
            CROSS JOIN LATERAL (VALUES (n."film_work_id"), (o."film_work_id")) AS film ("id")
            WHERE n IS DISTINCT FROM o AND film."id" IS NOT NULL;
        ELSIF TG_OP = 'DELETE' THEN
            INSERT INTO "content"."etl_change" ("entity", "entity_id")
            SELECT DISTINCT 'film_work', o."film_work_id" FROM old_rows o;
        END IF;
        IF FOUND AND coalesce(current_setting('movies_etl.notify', true), '') <> 'off' THEN
            PERFORM pg_notify('movies_etl_change', '');
        END IF;
        RETURN NULL;
    END
    $fn$;

    CREATE FUNCTION "content"."etl_log_truncate"() RETURNS trigger
    LANGUAGE plpgsql AS $fn$
    BEGIN
        IF current_setting('movies_etl.capture', true) = 'off' THEN
            RETURN NULL;
        END IF;
        INSERT INTO "content"."etl_change" ("entity", "entity_id") VALUES ('reload', '00000000-0000-0000-0000-000000000000');
        IF coalesce(current_setting('movies_etl.notify', true), '') <> 'off' THEN
            PERFORM pg_notify('movies_etl_change', '');
        END IF;
        RETURN NULL;
    END
    $fn$;

    CREATE TRIGGER "etl_capture_truncate" AFTER TRUNCATE ON "content"."film_work"
        FOR EACH STATEMENT EXECUTE FUNCTION "content"."etl_log_truncate"();
    CREATE TRIGGER "etl_capture_truncate" AFTER TRUNCATE ON "content"."genre"
        FOR EACH STATEMENT EXECUTE FUNCTION "content"."etl_log_truncate"();
    CREATE TRIGGER "etl_capture_truncate" AFTER TRUNCATE ON "content"."person"
        FOR EACH STATEMENT EXECUTE FUNCTION "content"."etl_log_truncate"();
    CREATE TRIGGER "etl_capture_truncate" AFTER TRUNCATE ON "content"."genre_film_work"
        FOR EACH STATEMENT EXECUTE FUNCTION "content"."etl_log_truncate"();
    CREATE TRIGGER "etl_capture_truncate" AFTER TRUNCATE ON "content"."person_film_work"
        FOR EACH STATEMENT EXECUTE FUNCTION "content"."etl_log_truncate"();

    ALTER TABLE "content"."film_work" ENABLE ALWAYS TRIGGER "etl_capture_insert";
    ALTER TABLE "content"."film_work" ENABLE ALWAYS TRIGGER "etl_capture_update";
    ALTER TABLE "content"."film_work" ENABLE ALWAYS TRIGGER "etl_capture_delete";
    ALTER TABLE "content"."film_work" ENABLE ALWAYS TRIGGER "etl_capture_truncate";
    ALTER TABLE "content"."genre" ENABLE ALWAYS TRIGGER "etl_capture_update";
    ALTER TABLE "content"."genre" ENABLE ALWAYS TRIGGER "etl_capture_delete";
    ALTER TABLE "content"."genre" ENABLE ALWAYS TRIGGER "etl_capture_truncate";
    ALTER TABLE "content"."person" ENABLE ALWAYS TRIGGER "etl_capture_update";
    ALTER TABLE "content"."person" ENABLE ALWAYS TRIGGER "etl_capture_delete";
    ALTER TABLE "content"."person" ENABLE ALWAYS TRIGGER "etl_capture_truncate";
    ALTER TABLE "content"."genre_film_work" ENABLE ALWAYS TRIGGER "etl_capture_insert";
    ALTER TABLE "content"."genre_film_work" ENABLE ALWAYS TRIGGER "etl_capture_update";
    ALTER TABLE "content"."genre_film_work" ENABLE ALWAYS TRIGGER "etl_capture_delete";
    ALTER TABLE "content"."genre_film_work" ENABLE ALWAYS TRIGGER "etl_capture_truncate";
    ALTER TABLE "content"."person_film_work" ENABLE ALWAYS TRIGGER "etl_capture_insert";
    ALTER TABLE "content"."person_film_work" ENABLE ALWAYS TRIGGER "etl_capture_update";
    ALTER TABLE "content"."person_film_work" ENABLE ALWAYS TRIGGER "etl_capture_delete";
    ALTER TABLE "content"."person_film_work" ENABLE ALWAYS TRIGGER "etl_capture_truncate";
END
$migration$;
