// Fast UTC formatting for COPY: Date#toISOString costs microseconds, and a
// million-film catalogue formats tens of millions of timestamps.

const millisPerDay = 86_400_000;
const twoDigits = Array.from({ length: 100 }, (_, n) => String(n).padStart(2, "0"));
const threeDigits = Array.from({ length: 1000 }, (_, n) => String(n).padStart(3, "0"));

/** `YYYY-MM-DD` of a UTC day given as days since 1970-01-01 (years 1000–9999). */
function formatDay(days: number): string {
  // Howard Hinnant's civil_from_days.
  const shifted = days + 719_468;
  const era = Math.floor(shifted / 146_097);
  const dayOfEra = shifted - era * 146_097;
  const yearOfEra = Math.floor(
    (dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36_524) - Math.floor(dayOfEra / 146_096)) / 365,
  );
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const monthIndex = Math.floor((5 * dayOfYear + 2) / 153);
  const day = dayOfYear - Math.floor((153 * monthIndex + 2) / 5) + 1;
  const month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9;
  const year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
  return `${year}-${twoDigits[month]}-${twoDigits[day]}`;
}

/** `YYYY-MM-DD` (UTC) of epoch milliseconds. */
export function formatUtcDate(epochMillis: number): string {
  return formatDay(Math.floor(epochMillis / millisPerDay));
}

/** `YYYY-MM-DD HH:MM:SS.mmm+00` of epoch milliseconds, as timestamptz reads it. */
export function formatUtcTimestamp(epochMillis: number): string {
  const days = Math.floor(epochMillis / millisPerDay);
  let rest = epochMillis - days * millisPerDay;
  const hours = Math.floor(rest / 3_600_000);
  rest -= hours * 3_600_000;
  const minutes = Math.floor(rest / 60_000);
  rest -= minutes * 60_000;
  const seconds = Math.floor(rest / 1000);
  const millis = rest - seconds * 1000;
  return `${formatDay(days)} ${twoDigits[hours]}:${twoDigits[minutes]}:${twoDigits[seconds]}.${threeDigits[millis]}+00`;
}
