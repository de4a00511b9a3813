-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "content";

-- CreateTable
CREATE TABLE "content"."film_work" (
    "id" UUID NOT NULL,
    "title" TEXT NOT NULL,
    "description" TEXT,
    "creation_date" DATE,
    "rating" DOUBLE PRECISION,
    "type" TEXT NOT NULL,
    "created" TIMESTAMPTZ(6),
    "modified" TIMESTAMPTZ(6),

    CONSTRAINT "film_work_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "content"."genre" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT,
    "created" TIMESTAMPTZ(6),
    "modified" TIMESTAMPTZ(6),

    CONSTRAINT "genre_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "content"."person" (
    "id" UUID NOT NULL,
    "full_name" TEXT NOT NULL,
    "created" TIMESTAMPTZ(6),
    "modified" TIMESTAMPTZ(6),

    CONSTRAINT "person_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "content"."genre_film_work" (
    "id" UUID NOT NULL,
    "genre_id" UUID NOT NULL,
    "film_work_id" UUID NOT NULL,
    "created" TIMESTAMPTZ(6),

    CONSTRAINT "genre_film_work_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "content"."person_film_work" (
    "id" UUID NOT NULL,
    "person_id" UUID NOT NULL,
    "film_work_id" UUID NOT NULL,
    "role" TEXT NOT NULL,
    "created" TIMESTAMPTZ(6),

    CONSTRAINT "person_film_work_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "film_work_modified_id_idx" ON "content"."film_work"("modified", "id");

-- CreateIndex
CREATE INDEX "genre_modified_id_idx" ON "content"."genre"("modified", "id");

-- CreateIndex
CREATE INDEX "person_modified_id_idx" ON "content"."person"("modified", "id");

-- CreateIndex
CREATE INDEX "genre_film_work_genre_id_film_work_id_idx" ON "content"."genre_film_work"("genre_id", "film_work_id");

-- CreateIndex
CREATE UNIQUE INDEX "film_work_genre_idx" ON "content"."genre_film_work"("film_work_id", "genre_id");

-- CreateIndex
CREATE INDEX "person_film_work_person_id_film_work_id_idx" ON "content"."person_film_work"("person_id", "film_work_id");

-- CreateIndex
CREATE UNIQUE INDEX "film_work_person_idx" ON "content"."person_film_work"("film_work_id", "person_id", "role");

-- AddForeignKey
ALTER TABLE "content"."genre_film_work" ADD CONSTRAINT "genre_film_work_genre_id_fkey" FOREIGN KEY ("genre_id") REFERENCES "content"."genre"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "content"."genre_film_work" ADD CONSTRAINT "genre_film_work_film_work_id_fkey" FOREIGN KEY ("film_work_id") REFERENCES "content"."film_work"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "content"."person_film_work" ADD CONSTRAINT "person_film_work_person_id_fkey" FOREIGN KEY ("person_id") REFERENCES "content"."person"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "content"."person_film_work" ADD CONSTRAINT "person_film_work_film_work_id_fkey" FOREIGN KEY ("film_work_id") REFERENCES "content"."film_work"("id") ON DELETE CASCADE ON UPDATE CASCADE;
