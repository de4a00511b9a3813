import type { PrismaClient } from "../db/prisma.ts";

/** Every film id of the catalogue in ascending order, a page at a time (typed keyset paging). */
export async function* filmIds(
  prisma: PrismaClient,
  pageSize: number,
  guard: <T>(call: () => Promise<T>) => Promise<T> = (call) => call(),
): AsyncGenerator<string> {
  let after: string | undefined;
  for (;;) {
    const from = after;
    const page = await guard(() =>
      prisma.filmWork.findMany({
        select: { id: true },
        where: from === undefined ? {} : { id: { gt: from } },
        orderBy: { id: "asc" },
        take: pageSize,
      }),
    );
    for (const { id } of page) yield id;
    if (page.length < pageSize) return;
    after = page[page.length - 1]!.id;
  }
}
