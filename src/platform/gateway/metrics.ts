import { Counter, Histogram, type Registry } from 'prom-client';

/** The labelled counter and histogram children of one method, route and status. */
interface RequestSeries {
  count(): void;
  observe(seconds: number): void;
}

/** HTTP metrics of the gateway; labels carry routes, statuses and limit names, never keys. */
export class GatewayMetrics {
  readonly #requests: Counter<'method' | 'route' | 'status'>;
  readonly #duration: Histogram<'method' | 'route'>;
  readonly #rejections: Counter<'tenant' | 'limit' | 'status'>;
  /**
   * Labelled children by `method route status`, so a request builds no label objects.
   * Routes are registered patterns and statuses are HTTP codes, so the map stays small.
   */
  readonly #series = new Map<string, RequestSeries>();

  constructor(registry: Registry) {
    this.#requests = new Counter({
      name: 'scalegate_gateway_requests_total',
      help: 'HTTP requests by final status, 499 when the client closed the connection first',
      labelNames: ['method', 'route', 'status'],
      registers: [registry],
    });
    this.#duration = new Histogram({
      name: 'scalegate_gateway_request_duration_seconds',
      help: 'Time from request start to response end, in seconds',
      labelNames: ['method', 'route'],
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    });
    this.#rejections = new Counter({
      name: 'scalegate_gateway_rejections_total',
      help: 'Task requests rejected for a named limit: backpressure, a tenant limit, maxTaskDurationMs, integrationTimeoutMs, contextWindowTokens or a failed enqueue (queue)',
      labelNames: ['tenant', 'limit', 'status'],
      registers: [registry],
    });
  }

  observeRequest(method: string, route: string, status: number, seconds: number): void {
    const key = `${method} ${route} ${status}`;
    let series = this.#series.get(key);
    if (series === undefined) {
      series = this.#newSeries(method, route, status);
      this.#series.set(key, series);
    }
    series.count();
    series.observe(seconds);
  }

  #newSeries(method: string, route: string, status: number): RequestSeries {
    const requests = this.#requests.labels({ method, route, status: String(status) });
    const duration = this.#duration.labels({ method, route });
    return { count: () => requests.inc(), observe: (seconds) => duration.observe(seconds) };
  }

  observeRejection(tenant: string, limit: string, status: number): void {
    this.#rejections.inc({ tenant, limit, status: String(status) });
  }
}
