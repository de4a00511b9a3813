import parsePrometheusTextFormat from "parse-prometheus-text-format";

interface Sample {
  labels?: Record<string, string>;
  value?: string;
}
interface Family {
  name: string;
  type: string;
  metrics: Sample[];
}

/** Parses the Prometheus text format; throws on text that is not. */
export function parseMetrics(text: string): Family[] {
  return parsePrometheusTextFormat(text) as Family[];
}

/** The value of one sample: the family's only sample, or the one whose labels include `labels`. */
export function sampleValue(families: Family[], name: string, labels: Record<string, string> = {}): number | undefined {
  const family = families.find((f) => f.name === name);
  const sample = family?.metrics.find((m) => Object.entries(labels).every(([key, value]) => m.labels?.[key] === value));
  return sample?.value === undefined ? undefined : Number(sample.value);
}
