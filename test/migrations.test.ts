// The migrations on real PostgreSQL: apply, re-apply, schema sync, baseline of an
// admin-panel catalogue, the change-capture triggers, and --skip-change-capture.
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { migrate } from "../scripts/db-migrate.ts";
import { defaultMigrationsDirectory, projectRoot, readMigrationsFolder } from "../scripts/db-migrations-folder.ts";
import { diffDatabaseToSchema, readSchemaFiles } from "../scripts/db-schema-diff.ts";
import {
  createEmptyTestDatabase,
  createTestDatabase,
  describeContentSchema,
  setupTemplateDatabase,
  type TestDatabase,
} from "./support/database.ts";

const run = promisify(execFile);
const databases: TestDatabase[] = [];

async function emptyDatabase(): Promise<TestDatabase> {
  const database = await createEmptyTestDatabase();
  databases.push(database);
  return database;
}

async function migratedDatabase(): Promise<TestDatabase> {
  const database = await createTestDatabase();
  databases.push(database);
  return database;
}

afterAll(async () => {
  for (const database of databases) await database.drop();
});

async function withClient<T>(databaseUrl: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

interface HistoryRow {
  migration_name: string;
  checksum: string;
  applied_steps_count: number;
  finished: boolean;
  rolled_back: boolean;
}

async function migrationHistory(databaseUrl: string): Promise<HistoryRow[]> {
  return withClient(databaseUrl, async (client) => {
    const result = await client.query<HistoryRow & { id: string; started_at: Date; finished_at: Date }>(
      `SELECT id, migration_name, checksum, applied_steps_count, started_at, finished_at,
              finished_at IS NOT NULL AS finished, rolled_back_at IS NOT NULL AS rolled_back
       FROM _prisma_migrations ORDER BY started_at`,
    );
    return result.rows;
  });
}

async function migrationNamesOnDisk(): Promise<string[]> {
  return (await readMigrationsFolder()).migrationDirectories.map((migration) => migration.path);
}

/** The migrate CLI as `npm run db:migrate` runs it. */
async function migrateCli(databaseUrl: string, ...args: string[]): Promise<string> {
  const { stdout } = await run(process.execPath, ["--import", "tsx", "scripts/migrate.ts", ...args], {
    cwd: projectRoot,
    env: { ...process.env, DATABASE_URL: databaseUrl },
  });
  return stdout;
}

async function tableExists(databaseUrl: string, qualifiedName: string): Promise<boolean> {
  return withClient(databaseUrl, async (client) => {
    const result = await client.query<{ present: boolean }>("SELECT to_regclass($1) IS NOT NULL AS present", [qualifiedName]);
    return result.rows[0]!.present;
  });
}

async function captureTriggerCount(databaseUrl: string): Promise<number> {
  return withClient(databaseUrl, async (client) => {
    const result = await client.query<{ count: number }>(
      `SELECT count(*)::int AS count FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
       WHERE c.relnamespace = 'content'::regnamespace AND t.tgname LIKE 'etl_capture_%'`,
    );
    return result.rows[0]!.count;
  });
}

beforeAll(async () => {
  // Idempotent; lets this file run without the project's global setup too.
  await setupTemplateDatabase();
});

describe("applying migrations", () => {
  it("applies every migration to an empty database, and a second run changes nothing", async () => {
    const database = await emptyDatabase();
    const names = await migrationNamesOnDisk();
    expect(names.map((name) => name.replace(/^\d{14}_/, ""))).toEqual(["catalogue", "etl_state", "change_capture", "change_capture_v2"]);

    const first = await migrate({ databaseUrl: database.url });
    expect(first).toEqual({ createdDatabase: false, recordedAsApplied: [], applied: names, missingCatalogueIndexes: [] });
    const history = await migrationHistory(database.url);
    const schema = await describeContentSchema(database.url);

    // Standard rows: the checksum is the SHA-256 of migration.sql, as `prisma migrate deploy` writes it.
    for (const [index, name] of names.entries()) {
      const script = await readFile(join(defaultMigrationsDirectory, name, "migration.sql"));
      expect(history[index]).toMatchObject({
        migration_name: name,
        checksum: createHash("sha256").update(script).digest("hex"),
        applied_steps_count: 1,
        finished: true,
        rolled_back: false,
      });
    }
    expect(schema.triggers).toHaveLength(18);

    const second = await migrate({ databaseUrl: database.url });
    expect(second).toEqual({ createdDatabase: false, recordedAsApplied: [], applied: [], missingCatalogueIndexes: [] });
    expect(await migrationHistory(database.url)).toEqual(history);
    expect(await describeContentSchema(database.url)).toEqual(schema);
  });

  it("creates the database when it does not exist", async () => {
    const database = await emptyDatabase();
    await database.drop();
    const lines: string[] = [];
    const result = await migrate({ databaseUrl: database.url, log: (line) => lines.push(line) });
    expect(result.createdDatabase).toBe(true);
    expect(result.applied).toHaveLength(4);
    expect(lines[0]).toMatch(/^created database postgres@127\.0\.0\.1:5432\/movies_etl_test_/);
  });

  it("the migrations and prisma/schema.prisma agree: diffing the migrated database to the schema finds nothing", async () => {
    const database = await migratedDatabase();
    expect(await diffDatabaseToSchema(database.url, await readSchemaFiles())).toBeNull();
  });

  it("a diff does find what the schema adds (the diff is not blind)", async () => {
    const database = await migratedDatabase();
    const schema = await readSchemaFiles();
    const file = schema.files[0]!;
    const changed = { files: [{ ...file, content: file.content.replace("  fullName String", "  nickname String?\n  fullName String") }] };
    const sql = await diffDatabaseToSchema(database.url, changed);
    expect(sql).toContain(`ALTER TABLE "content"."person" ADD COLUMN     "nickname" TEXT`);
  });

  it("runs a migration script whole and atomically (function bodies with ';' work, a failure leaves nothing behind)", async () => {
    const database = await emptyDatabase();
    const folder = await mkdtemp(join(tmpdir(), "movies-etl-migrations-"));
    try {
      const names = await migrationNamesOnDisk();
      for (const name of names) await cp(join(defaultMigrationsDirectory, name), join(folder, name), { recursive: true });
      await cp(join(defaultMigrationsDirectory, "migration_lock.toml"), join(folder, "migration_lock.toml"));
      await mkdir(join(folder, "29990101000000_broken"));
      await writeFile(
        join(folder, "29990101000000_broken", "migration.sql"),
        `CREATE TABLE "content"."half_done" (id int);\nSELECT 'a;b' AS text_with_semicolon;\nSELECT 1 / 0;\n`,
      );
      await expect(migrate({ databaseUrl: database.url, migrationsDirectory: folder })).rejects.toThrow(/division by zero/);
      expect(await tableExists(database.url, "content.etl_change")).toBe(true);
      expect(await tableExists(database.url, "content.half_done")).toBe(false);
      const history = await migrationHistory(database.url);
      expect(history.map((row) => [row.migration_name, row.finished])).toEqual([
        ...names.map((name) => [name, true]),
        ["29990101000000_broken", false],
      ]);
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  });

  it("refuses a database that has only some of the catalogue tables", async () => {
    const database = await emptyDatabase();
    await withClient(database.url, (client) =>
      client.query(`CREATE SCHEMA content; CREATE TABLE content.film_work (id uuid PRIMARY KEY, title text NOT NULL, type text NOT NULL)`),
    );
    await expect(migrate({ databaseUrl: database.url })).rejects.toThrow(/has only some of the catalogue tables \(film_work\)/);
  });
});

/** The catalogue as the admin panel (Django) creates it: no Prisma, no migration history. */
const adminPanelDdl = `
CREATE SCHEMA IF NOT EXISTS content;
CREATE TABLE content.film_work (
    id uuid PRIMARY KEY,
    title text NOT NULL,
    description text,
    creation_date date,
    rating float,
    type text NOT NULL,
    created timestamp with time zone,
    modified timestamp with time zone
);
CREATE TABLE content.genre (
    id uuid PRIMARY KEY,
    name text NOT NULL,
    description text,
    created timestamp with time zone,
    modified timestamp with time zone
);
CREATE TABLE content.person (
    id uuid PRIMARY KEY,
    full_name text NOT NULL,
    created timestamp with time zone,
    modified timestamp with time zone
);
CREATE TABLE content.genre_film_work (
    id uuid PRIMARY KEY,
    genre_id uuid NOT NULL REFERENCES content.genre (id) ON DELETE CASCADE,
    film_work_id uuid NOT NULL REFERENCES content.film_work (id) ON DELETE CASCADE,
    created timestamp with time zone
);
CREATE TABLE content.person_film_work (
    id uuid PRIMARY KEY,
    person_id uuid NOT NULL REFERENCES content.person (id) ON DELETE CASCADE,
    film_work_id uuid NOT NULL REFERENCES content.film_work (id) ON DELETE CASCADE,
    role text NOT NULL,
    created timestamp with time zone
);
CREATE UNIQUE INDEX film_work_genre_idx ON content.genre_film_work (film_work_id, genre_id);
CREATE UNIQUE INDEX film_work_person_idx ON content.person_film_work (film_work_id, person_id, role);
INSERT INTO content.film_work (id, title, type, created, modified)
VALUES ('6f0c5d2e-8d3a-4c55-9d7e-0b1a2c3d4e5f', 'Existing film', 'movie', now(), now());
`;

describe("an existing catalogue (created by the admin panel)", () => {
  it("db:migrate baselines the catalogue migration, then creates etl_state and etl_change with its triggers", async () => {
    const database = await emptyDatabase();
    await withClient(database.url, (client) => client.query(adminPanelDdl));
    const names = await migrationNamesOnDisk();

    const output = await migrateCli(database.url);
    expect(output).toContain(`baselining ${names[0]}`);
    expect(output).not.toMatch(/applied \d+_catalogue/);
    // The admin panel's catalogue lacks the (modified, id) and reverse-link indexes: named, not created.
    expect(output).toContain("the existing catalogue lacks 5 indexes");
    expect(output).toContain(`CREATE INDEX "film_work_modified_id_idx" ON "content"."film_work"("modified", "id");`);
    expect(await tableExists(database.url, "content.film_work_modified_id_idx")).toBe(false);

    const history = await migrationHistory(database.url);
    expect(history.map((row) => [row.migration_name, row.applied_steps_count])).toEqual([
      [names[0], 0],
      [names[1], 1],
      [names[2], 1],
      [names[3], 1],
    ]);
    expect(history.every((row) => row.finished && !row.rolled_back)).toBe(true);
    expect(await tableExists(database.url, "content.etl_state")).toBe(true);
    expect(await tableExists(database.url, "content.etl_change")).toBe(true);
    expect(await captureTriggerCount(database.url)).toBe(18);

    // The data is untouched and changes to it are captured.
    await withClient(database.url, async (client) => {
      expect((await client.query("SELECT title FROM content.film_work")).rows).toEqual([{ title: "Existing film" }]);
      await client.query("UPDATE content.film_work SET title = 'Renamed'");
      const changes = await client.query("SELECT entity, entity_id FROM content.etl_change");
      expect(changes.rows).toEqual([{ entity: "film_work", entity_id: "6f0c5d2e-8d3a-4c55-9d7e-0b1a2c3d4e5f" }]);
    });

    expect(await migrateCli(database.url)).toMatch(/up to date \(4 migrations\)/);
  });

  it("--skip-change-capture records the change-capture migration without creating etl_change", async () => {
    const database = await emptyDatabase();
    await withClient(database.url, (client) => client.query(adminPanelDdl));
    const names = await migrationNamesOnDisk();

    const output = await migrateCli(database.url, "--skip-change-capture");
    expect(output).toContain(`recorded ${names[2]} as applied`);
    expect(await tableExists(database.url, "content.etl_state")).toBe(true);
    expect(await tableExists(database.url, "content.etl_change")).toBe(false);
    expect(await captureTriggerCount(database.url)).toBe(0);
    const history = await migrationHistory(database.url);
    expect(history.map((row) => [row.migration_name, row.applied_steps_count])).toEqual([
      [names[0], 0],
      [names[1], 1],
      [names[2], 0],
      // Applied, and a no-op without the change log.
      [names[3], 1],
    ]);

    // Recorded as applied: a later plain run leaves it so.
    expect(await migrateCli(database.url)).toMatch(/up to date/);
    expect(await tableExists(database.url, "content.etl_change")).toBe(false);
  });

  it("--skip-change-capture on an empty database applies the other migrations", async () => {
    const database = await emptyDatabase();
    const result = await migrate({ databaseUrl: database.url, skipChangeCapture: true });
    const names = await migrationNamesOnDisk();
    expect(result).toEqual({
      createdDatabase: false,
      recordedAsApplied: [names[2]],
      applied: [names[0], names[1], names[3]],
      missingCatalogueIndexes: [],
    });
    expect(await tableExists(database.url, "content.film_work")).toBe(true);
    expect(await tableExists(database.url, "content.etl_change")).toBe(false);
  });
});

describe("change-capture triggers", () => {
  const film = "00000000-0000-4000-8000-00000000f001";
  const otherFilm = "00000000-0000-4000-8000-00000000f002";
  const genre = "00000000-0000-4000-8000-00000000a001";
  const person = "00000000-0000-4000-8000-00000000b001";
  const otherPerson = "00000000-0000-4000-8000-00000000b002";
  let database: TestDatabase;
  let client: pg.Client;

  beforeAll(async () => {
    database = await migratedDatabase();
    client = new pg.Client({ connectionString: database.url });
    await client.connect();
  });
  afterAll(async () => {
    await client.end();
  });

  /** Runs one statement and returns what it logged, as "entity id" lines. */
  async function logged(sql: string): Promise<string[]> {
    const before = await client.query<{ seq: string }>("SELECT coalesce(max(seq), 0) AS seq FROM content.etl_change");
    await client.query(sql);
    const rows = await client.query<{ line: string }>(
      "SELECT entity || ' ' || entity_id AS line FROM content.etl_change WHERE seq > $1 ORDER BY line",
      [before.rows[0]!.seq],
    );
    return rows.rows.map((row) => row.line);
  }

  it("logs films, join-table changes, genre and person updates and deletes; skips no-op updates and new genres/persons", async () => {
    expect(
      await logged(`INSERT INTO content.film_work (id, title, type) VALUES ('${film}', 'One', 'movie'), ('${otherFilm}', 'Two', 'movie')`),
    ).toEqual([`film_work ${film}`, `film_work ${otherFilm}`]);
    expect(await logged(`INSERT INTO content.genre (id, name) VALUES ('${genre}', 'Drama')`)).toEqual([]);
    expect(await logged(`INSERT INTO content.person (id, full_name) VALUES ('${person}', 'Anna'), ('${otherPerson}', 'Boris')`)).toEqual(
      [],
    );

    expect(
      await logged(`INSERT INTO content.genre_film_work (id, genre_id, film_work_id) VALUES (gen_random_uuid(), '${genre}', '${film}')`),
    ).toEqual([`film_work ${film}`]);
    // Three rows for one film in one statement: logged once.
    expect(
      await logged(
        `INSERT INTO content.person_film_work (id, person_id, film_work_id, role) VALUES
         (gen_random_uuid(), '${person}', '${film}', 'actor'), (gen_random_uuid(), '${person}', '${film}', 'director'),
         (gen_random_uuid(), '${otherPerson}', '${film}', 'actor')`,
      ),
    ).toEqual([`film_work ${film}`]);

    expect(await logged(`UPDATE content.film_work SET title = title`)).toEqual([]);
    expect(await logged(`UPDATE content.film_work SET rating = 7.5 WHERE id = '${otherFilm}'`)).toEqual([`film_work ${otherFilm}`]);
    expect(await logged(`UPDATE content.genre SET name = 'Drama'`)).toEqual([]);
    expect(await logged(`UPDATE content.genre SET name = 'Драма'`)).toEqual([`genre ${genre}`]);
    expect(await logged(`UPDATE content.person SET full_name = 'Anna K.' WHERE id = '${person}'`)).toEqual([`person ${person}`]);
    // A link moved to another film: both films changed.
    expect(await logged(`UPDATE content.person_film_work SET film_work_id = '${otherFilm}' WHERE person_id = '${otherPerson}'`)).toEqual([
      `film_work ${film}`,
      `film_work ${otherFilm}`,
    ]);

    expect(await logged(`DELETE FROM content.genre_film_work WHERE film_work_id = '${film}'`)).toEqual([`film_work ${film}`]);
    // Deleting a person cascades to their links: the person and the films are logged.
    expect(await logged(`DELETE FROM content.person WHERE id = '${person}'`)).toEqual([`film_work ${film}`, `person ${person}`]);
    expect(await logged(`DELETE FROM content.genre WHERE id = '${genre}'`)).toEqual([`genre ${genre}`]);
    // Deduplication is per trigger run: the film's own delete and the cascaded delete of its links log it once each.
    expect(await logged(`DELETE FROM content.film_work WHERE id = '${otherFilm}'`)).toEqual([
      `film_work ${otherFilm}`,
      `film_work ${otherFilm}`,
    ]);
  });

  it("stamps each change with its transaction id", async () => {
    await client.query("BEGIN");
    const txid = await client.query<{ txid: string }>("SELECT pg_current_xact_id()::text AS txid");
    await client.query(`UPDATE content.film_work SET title = 'One again' WHERE id = '${film}'`);
    const stamped = await client.query<{ txid: string }>("SELECT txid::text FROM content.etl_change ORDER BY seq DESC LIMIT 1");
    await client.query("COMMIT");
    expect(stamped.rows[0]!.txid).toBe(txid.rows[0]!.txid);
  });

  it("logs nothing while movies_etl.capture is off, and again once it is reset", async () => {
    await client.query("SET movies_etl.capture = off");
    expect(await logged(`INSERT INTO content.genre (id, name) VALUES ('${genre}', 'Comedy')`)).toEqual([]);
    expect(
      await logged(`INSERT INTO content.genre_film_work (id, genre_id, film_work_id) VALUES (gen_random_uuid(), '${genre}', '${film}')`),
    ).toEqual([]);
    expect(await logged(`UPDATE content.genre SET name = 'Комедия'`)).toEqual([]);
    expect(await logged(`DELETE FROM content.film_work`)).toEqual([]);
    await client.query("RESET movies_etl.capture");
    expect(await logged(`DELETE FROM content.genre`)).toEqual([`genre ${genre}`]);
  });

  it("notifies a listener once per transaction that logged something, and not with movies_etl.notify off", async () => {
    const listener = new pg.Client({ connectionString: database.url });
    await listener.connect();
    const received: string[] = [];
    listener.on("notification", (message) => received.push(message.channel));
    await listener.query("LISTEN movies_etl_change");
    const settle = () => new Promise((resolve) => setTimeout(resolve, 300));
    try {
      await client.query("BEGIN");
      await client.query(`INSERT INTO content.film_work (id, title, type) VALUES ('${otherFilm}', 'Three', 'movie')`);
      await client.query(`UPDATE content.film_work SET title = 'Four' WHERE id = '${otherFilm}'`);
      await client.query("COMMIT");
      await settle();
      expect(received).toEqual(["movies_etl_change"]);

      await client.query(`UPDATE content.film_work SET title = title`);
      await settle();
      expect(received).toHaveLength(1);

      await client.query("SET movies_etl.notify = off");
      expect(await logged(`UPDATE content.film_work SET title = 'Five' WHERE id = '${otherFilm}'`)).toEqual([`film_work ${otherFilm}`]);
      await settle();
      expect(received).toHaveLength(1);
      await client.query("RESET movies_etl.notify");
    } finally {
      await listener.end();
    }
  });
});
