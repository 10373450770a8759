import { Gauge, Registry } from 'prom-client';

/**
 * A gauge filled at each scrape from what `read` returns (a snapshot, or nothing): emptied just
 * before it is filled, so label sets that went away (a replica, a node, a team) go with them.
 */
export function scrapedGauge<L extends string, S>(
  registry: Registry,
  metric: { name: string; help: string; labelNames: readonly L[] },
  read: () => S | Promise<S>,
  fill: (g: Gauge<L>, s: S) => void,
): Gauge<L> {
  const g: Gauge<L> = new Gauge({
    ...metric,
    registers: [registry],
    collect: async () => {
      const s = await read();
      g.reset();
      fill(g, s);
    },
  });
  return g;
}
