// graphile-worker pickup-latency runner for bench/latency.sh.  Usage:
//   node graphile-worker-latency.mjs setup                  (workerUtils.migrate())
//   node graphile-worker-latency.mjs run --clients 4        (the runner, see below)
//
// run: a graphile-worker runner, concurrency --clients, default settings otherwise
// (LISTEN "jobs:insert" wake-up, default pollInterval 2 s, no local queue). Prints
// "ready" once run() has resolved (the LISTEN connection is being set up); latency.sh
// waits for it and a little more before the producer starts. For every `lat_job` it
// records the job id, its attempts, `locked_at` with microseconds (set to now() by
// graphile-worker's get_job statement that claimed the job) and the wall-clock time the
// handler was entered. A `lat_stop` job (added by latency.sh after the producer has
// finished) ends the run: once no lat_job is left in the table, runner.stop(), then the
// records go into the table `bench_gw_picked` and one JSON line {"tasks":N} is printed.
// Connection settings and PGOPTIONS (synchronous_commit) come from the libpq environment.
import pg from 'pg';
import { makeWorkerUtils, run, Logger } from 'graphile-worker';
import { parseArgs, pgSettings, report } from './common.mjs';

const opts = parseArgs(process.argv.slice(2));
// timestamptz arrives as a JS Date (millisecond precision); keep the server's text too,
// so that locked_at keeps its microseconds. graphile-worker still sees a Date.
const parseTz = pg.types.getTypeParser(1184);
pg.types.setTypeParser(1184, (s) => { const d = parseTz(s); if (d) d.raw = s; return d; });

const logger = new Logger(() => (level, message) => {
  if (level === 'error' || level === 'warning') console.error(`graphile-worker ${level}: ${message}`);
});
const pgPool = new pg.Pool(pgSettings({ max: opts.clients + 4, options: process.env.PGOPTIONS }));
pgPool.on('error', (e) => console.error('pool error:', e.message));
pgPool.on('connect', (client) => client.on('error', (e) => console.error('client error:', e.message)));
const wallNow = () => performance.timeOrigin + performance.now(); // ms since epoch, sub-ms

if (opts.cmd === 'setup') {
  const utils = await makeWorkerUtils({ pgPool, logger });
  await utils.migrate();
  await utils.release();
  await pgPool.end();
  report({ ok: true });
  process.exit(0);
}
if (opts.cmd !== 'run') throw new Error(`unknown command ${opts.cmd}`);

const { rows: [{ synchronous_commit: sc }] } = await pgPool.query('SHOW synchronous_commit');
const ids = [], attempts = [], lockedAt = [], handlerAt = [];
let stop;
const stopped = new Promise((resolve) => { stop = resolve; });
const runner = await run({
  pgPool,
  logger,
  concurrency: opts.clients,
  noHandleSignals: true,
  taskList: {
    lat_job: async (_payload, helpers) => {
      const t = wallNow();
      const job = helpers.job;
      ids.push(String(job.id));
      attempts.push(job.attempts);
      lockedAt.push(job.locked_at?.raw ?? null);
      handlerAt.push(t);
    },
    lat_stop: async () => { stop(); },
  },
});
process.stdout.write('ready\n');
await stopped;
// jobs claimed before lat_stop may still be running or completing; wait until no lat_job is left
for (let i = 0; i < 600; i++) {
  const { rows: [{ n }] } = await pgPool.query(
    `SELECT count(*)::int AS n FROM graphile_worker._private_jobs j
       JOIN graphile_worker._private_tasks t ON t.id = j.task_id WHERE t.identifier = 'lat_job'`);
  if (n === 0) break;
  await new Promise((r) => setTimeout(r, 100));
}
await runner.stop();
await pgPool.query(`CREATE TABLE IF NOT EXISTS bench_gw_picked
  (id bigint, attempts int, locked_at timestamptz, handler_at timestamptz)`);
for (let i = 0; i < ids.length; i += 5000) {
  const sl = (a) => a.slice(i, i + 5000);
  await pgPool.query(
    `INSERT INTO bench_gw_picked
     SELECT id, att, la, to_timestamp(ha / 1000.0)
       FROM unnest($1::bigint[], $2::int[], $3::timestamptz[], $4::float8[]) AS u(id, att, la, ha)`,
    [sl(ids), sl(attempts), sl(lockedAt), sl(handlerAt)]);
}
// the Node clock against the server's (the latency compares them): server - midpoint of the round trip
const t0 = wallNow();
const { rows: [{ ms }] } = await pgPool.query('SELECT extract(epoch FROM clock_timestamp()) * 1000 AS ms');
const t1 = wallNow();
await pgPool.end();
report({ tasks: ids.length, synchronous_commit: sc,
  server_minus_node_ms: +(Number(ms) - (t0 + t1) / 2).toFixed(3), round_trip_ms: +(t1 - t0).toFixed(3) });
process.exit(0);
