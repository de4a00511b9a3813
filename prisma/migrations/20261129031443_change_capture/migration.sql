-- CreateTable
CREATE TABLE "content"."etl_change" (
    "seq" BIGSERIAL NOT NULL,
    "txid" xid8 NOT NULL DEFAULT pg_current_xact_id(),
    "entity" TEXT NOT NULL,
    "entity_id" UUID NOT NULL,
    "logged" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "etl_change_pkey" PRIMARY KEY ("seq")
);

-- CreateIndex
CREATE INDEX "etl_change_txid_seq_idx" ON "content"."etl_change"("txid", "seq");


-- ---------------------------------------------------------------------------
-- Hand-written below: change-capture triggers. Prisma cannot model functions or
-- triggers, so `db:diff` neither generates nor sees this part.
--
-- Statement-level AFTER triggers with transition tables (PostgreSQL allows
-- transition tables only on single-event triggers, hence one trigger per event)
-- log which films, genres and persons a statement touched into etl_change.
-- UPDATEs log only rows that really changed. Nothing is logged while the session
-- setting movies_etl.capture is 'off' (bulk loads: SET movies_etl.capture = off).
-- ---------------------------------------------------------------------------

-- film_work, genre, person: logs (TG_ARGV[0], id) of the rows touched.
CREATE FUNCTION "content"."etl_log_entity_change"() RETURNS trigger
LANGUAGE plpgsql AS $$
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
    RETURN NULL;
END
$$;

-- genre_film_work, person_film_work: logs ('film_work', film_work_id) of the old and new rows.
CREATE FUNCTION "content"."etl_log_film_link_change"() RETURNS trigger
LANGUAGE plpgsql AS $$
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
    RETURN NULL;
END
$$;

-- film_work: every insert, update and delete.
CREATE TRIGGER "etl_capture_insert" AFTER INSERT ON "content"."film_work"
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION "content"."etl_log_entity_change"('film_work');
CREATE TRIGGER "etl_capture_update" AFTER UPDATE ON "content"."film_work"
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION "content"."etl_log_entity_change"('film_work');
CREATE TRIGGER "etl_capture_delete" AFTER DELETE ON "content"."film_work"
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION "content"."etl_log_entity_change"('film_work');

-- genre and person: updates and deletes (a new genre or person is in no film yet).
CREATE TRIGGER "etl_capture_update" AFTER UPDATE ON "content"."genre"
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION "content"."etl_log_entity_change"('genre');
CREATE TRIGGER "etl_capture_delete" AFTER DELETE ON "content"."genre"
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION "content"."etl_log_entity_change"('genre');
CREATE TRIGGER "etl_capture_update" AFTER UPDATE ON "content"."person"
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION "content"."etl_log_entity_change"('person');
CREATE TRIGGER "etl_capture_delete" AFTER DELETE ON "content"."person"
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION "content"."etl_log_entity_change"('person');

-- genre_film_work and person_film_work: the films whose genres or people changed.
CREATE TRIGGER "etl_capture_insert" AFTER INSERT ON "content"."genre_film_work"
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION "content"."etl_log_film_link_change"();
CREATE TRIGGER "etl_capture_update" AFTER UPDATE ON "content"."genre_film_work"
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION "content"."etl_log_film_link_change"();
CREATE TRIGGER "etl_capture_delete" AFTER DELETE ON "content"."genre_film_work"
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION "content"."etl_log_film_link_change"();
CREATE TRIGGER "etl_capture_insert" AFTER INSERT ON "content"."person_film_work"
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION "content"."etl_log_film_link_change"();
CREATE TRIGGER "etl_capture_update" AFTER UPDATE ON "content"."person_film_work"
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION "content"."etl_log_film_link_change"();
CREATE TRIGGER "etl_capture_delete" AFTER DELETE ON "content"."person_film_work"
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION "content"."etl_log_film_link_change"();
