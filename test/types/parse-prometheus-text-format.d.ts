declare module "parse-prometheus-text-format" {
  /** Metric families of a Prometheus text exposition (https://github.com/yunyu/parse-prometheus-text-format). */
  export default function parsePrometheusTextFormat(text: string): unknown[];
}
