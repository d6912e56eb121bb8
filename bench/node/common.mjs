// Shared helpers for the Node drivers: argument parsing, connection settings, timing, output.
// Connection settings come from the libpq environment set by bench/run.sh
// (PGHOST = socket directory, PGPORT, PGUSER, PGDATABASE).

export function parseArgs(argv) {
  const [cmd, ...rest] = argv;
  const opts = { cmd, clients: 4, duration: 15, n: 0, 'max-seconds': 0 };
  for (let i = 0; i < rest.length; i += 2) {
    const k = rest[i].replace(/^--/, '');
    opts[k] = Number(rest[i + 1]);
  }
  return opts;
}

export function pgSettings(extra = {}) {
  return {
    host: process.env.PGHOST || '/var/run/postgresql',
    port: Number(process.env.PGPORT || 5432),
    user: process.env.PGUSER || 'postgres',
    database: process.env.PGDATABASE || 'postgres',
    ...extra,
  };
}

export const now = () => Number(process.hrtime.bigint()) / 1e9;

// One JSON line on stdout is the whole interface with bench/run.sh.
export function report(obj) {
  process.stdout.write(JSON.stringify(obj) + '\n');
}

// Run `clients` concurrent loops of `once()` until `duration` seconds have passed;
// once() returns how many tasks it handled.
export async function timedLoops(clients, duration, once) {
  let tasks = 0;
  const t0 = now();
  const deadline = t0 + duration;
  await Promise.all(Array.from({ length: clients }, async () => {
    while (now() < deadline) {
      const k = await once(); // not `tasks += await once()`: that reads `tasks` before the await
      tasks += k;
    }
  }));
  return { tasks, seconds: now() - t0 };
}

// Run `clients` concurrent loops of `once()` until each returns 0 (queue empty),
// or until maxSeconds have passed (0 = no limit).
export async function drainLoops(clients, once, maxSeconds = 0) {
  let tasks = 0;
  const t0 = now();
  const deadline = maxSeconds > 0 ? t0 + maxSeconds : Infinity;
  await Promise.all(Array.from({ length: clients }, async () => {
    while (now() < deadline) {
      const k = await once();
      if (k === 0) break;
      tasks += k;
    }
  }));
  return { tasks, seconds: now() - t0 };
}

export function chunks(total, size) {
  const out = [];
  for (let left = total; left > 0; left -= size) out.push(Math.min(size, left));
  return out;
}

// Run async jobs with at most `width` in flight.
export async function parallel(items, width, fn) {
  let i = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (i < items.length) { const k = i++; await fn(items[k], k); }
  }));
}
