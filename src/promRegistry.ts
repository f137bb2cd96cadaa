/**
 * Collectors live on prom-client's default register, shared by the API, the
 * pipeline and the AWS gateway so /metrics shows them all. Registration is
 * idempotent: several apps in one process (tests, the all-in-one role) reuse
 * the same collectors.
 */
import { Counter, Histogram, register } from 'prom-client';

export function once<T>(name: string, make: () => T): T {
  return (register.getSingleMetric(name) as T | undefined) ?? make();
}

export function counter(name: string, help: string, labelNames: string[] = []): Counter<string> {
  return once(name, () => new Counter({ name, help, labelNames }));
}

export function histogram(name: string, help: string, labelNames: string[], buckets: number[]): Histogram<string> {
  return once(name, () => new Histogram({ name, help, labelNames, buckets }));
}
