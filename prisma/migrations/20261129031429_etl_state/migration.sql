-- CreateTable
CREATE TABLE "content"."etl_state" (
    "name" TEXT NOT NULL,
    "value" JSONB NOT NULL,
    "modified" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "etl_state_pkey" PRIMARY KEY ("name")
);
