import {
  ConsecutiveBreaker,
  ExponentialBackoff,
  TimeoutStrategy,
  circuitBreaker,
  handleWhen,
  retry,
  timeout,
  wrap,
  type IPolicy,
} from "cockatiel";
import type { RetryConfig } from "../config.ts";
import { DependencyUnavailableError, describeError, type Dependency } from "../errors.ts";
import type { Logger } from "../log.ts";
import { isPolicyFault, isTransientElasticsearchError, isTransientPostgresError } from "./transient.ts";

/** Runs a call to one dependency under its policy; the signal ends with the attempt. */
export type Guard = <T>(call: (signal: AbortSignal) => Promise<T>) => Promise<T>;

export type CircuitState = "closed" | "open" | "half-open";

/** Told about every retry and circuit change, e.g. by metrics. */
export interface ResilienceObserver {
  retried(dependency: Dependency): void;
  circuitChanged(dependency: Dependency, state: CircuitState): void;
}

export interface Guards {
  postgres: Guard;
  elasticsearch: Guard;
  /** Adds an observer of retries and circuit changes. */
  observe(observer: ResilienceObserver): void;
}

const CLASSIFIERS: Record<Dependency, (error: unknown) => boolean> = {
  postgres: isTransientPostgresError,
  elasticsearch: isTransientElasticsearchError,
};

/**
 * One policy per dependency: retry (exponential backoff, decorrelated jitter)
 * around a circuit breaker around a per-attempt timeout. Only transient faults
 * are retried; when they persist the caller gets a DependencyUnavailableError,
 * anything else is rethrown untouched.
 */
export function createGuards(config: RetryConfig, log: Logger): Guards {
  const observers: ResilienceObserver[] = [];
  return {
    postgres: createGuard("postgres", config, log, observers),
    elasticsearch: createGuard("elasticsearch", config, log, observers),
    observe: (observer) => void observers.push(observer),
  };
}

function createGuard(dependency: Dependency, config: RetryConfig, log: Logger, observers: ResilienceObserver[]): Guard {
  const isTransient = CLASSIFIERS[dependency];
  const handled = handleWhen((error) => isTransient(error) || isPolicyFault(error));
  const retryPolicy = retry(handled, {
    maxAttempts: config.maxAttempts,
    backoff: new ExponentialBackoff({ initialDelay: config.initialDelayMs, maxDelay: config.maxDelayMs }),
  });
  const breaker = circuitBreaker(handled, {
    halfOpenAfter: config.breakerHalfOpenAfterMs,
    breaker: new ConsecutiveBreaker(config.breakerThreshold),
  });
  const attemptTimeout = timeout(config.attemptTimeoutMs, TimeoutStrategy.Aggressive);
  const policy: IPolicy = wrap(retryPolicy, breaker, attemptTimeout);

  retryPolicy.onRetry((event) => {
    const reason = "error" in event ? describeError(event.error) : "unexpected result";
    log.warn(`${dependency}: transient failure, retrying`, { attempt: event.attempt, delayMs: Math.round(event.delay), reason });
    for (const observer of observers) observer.retried(dependency);
  });
  breaker.onBreak(() => {
    log.warn(`${dependency}: circuit opened after repeated failures`);
    for (const observer of observers) observer.circuitChanged(dependency, "open");
  });
  breaker.onHalfOpen(() => {
    for (const observer of observers) observer.circuitChanged(dependency, "half-open");
  });
  breaker.onReset(() => {
    log.info(`${dependency}: circuit closed again`);
    for (const observer of observers) observer.circuitChanged(dependency, "closed");
  });

  // The last transient failure, for the final message: "the circuit is open" alone does not say what failed.
  let lastFailure: unknown = null;
  return async (call) => {
    try {
      return await policy.execute(async ({ signal }) => {
        try {
          return await call(signal);
        } catch (error) {
          if (isTransient(error)) lastFailure = error;
          throw error;
        }
      });
    } catch (error) {
      if (isTransient(error)) throw new DependencyUnavailableError(dependency, error);
      if (isPolicyFault(error)) throw new DependencyUnavailableError(dependency, lastFailure ?? error, describeError(error));
      throw error;
    }
  };
}
