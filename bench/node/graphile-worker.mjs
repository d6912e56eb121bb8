// graphile-worker driver for bench/run.sh.  Usage:
//   node graphile-worker.mjs setup                                (workerUtils.migrate())
//   node graphile-worker.mjs enqueue1   --clients 4 --duration 15 (W1: workerUtils.addJob per job)
//   node graphile-worker.mjs enqueue100 --clients 4 --duration 15 (W2: workerUtils.addJobs of 100)
//   node graphile-worker.mjs preload    --n 200000                (backlog: addJobs, 1000 a call)
//   node graphile-worker.mjs drain1     --clients 4 --n 200000    (W3/W5: run(), concurrency 4)
//   node graphile-worker.mjs drain10    --clients 4 --n 200000    (W4: run() with localQueue size 10
//                                                                  and completeJobBatchDelay 0)
//   (drains stop when --n jobs have run, or after --max-seconds S when given)
// Prints one JSON line {"tasks":N,"seconds":S}.  graphile-worker deletes a job when it
// succeeds; the W5 history (permanently failed jobs, the only finished rows it keeps) is
// made by bench/sql/graphile-worker_history.sql.
import pg from 'pg';
import { makeWorkerUtils, run, Logger } from 'graphile-worker';
import { parseArgs, pgSettings, report, timedLoops, now, chunks, parallel } from './common.mjs';

const TASK = 'bench_job';
const opts = parseArgs(process.argv.slice(2));
// Keep warnings and errors, drop the per-job info lines (console output would cost more
// CPU than the queue itself on a 2-core machine).
const logger = new Logger(() => (level, message) => {
  if (level === 'error' || level === 'warning') console.error(`graphile-worker ${level}: ${message}`);
});
const pgPool = new pg.Pool(pgSettings({ max: opts.clients + 4 }));
pgPool.on('error', (e) => console.error('pool error:', e.message));
pgPool.on('connect', (client) => client.on('error', (e) => console.error('client error:', e.message)));
const utils = await makeWorkerUtils({ pgPool, logger });

const payload = { n: 1 };
let out;

async function drain(preset) {
  const target = opts.n;
  let done = 0;
  let finish;
  const finished = new Promise((resolve) => { finish = resolve; });
  const t0 = now();
  const runner = await run({
    pgPool,
    logger,
    concurrency: opts.clients,
    noHandleSignals: true,
    preset: { worker: preset },
    taskList: {
      [TASK]: async () => {
        done += 1;
        if (done >= target) finish();
      },
    },
  });
  const cap = opts['max-seconds'];
  await (cap > 0 ? Promise.race([finished, new Promise((r) => setTimeout(r, cap * 1000))]) : finished);
  // stop() is graceful: it waits for the running jobs and flushes pending completions,
  // so the elapsed time covers every completion being written.
  await runner.stop();
  return { tasks: done, seconds: now() - t0 };
}

switch (opts.cmd) {
  case 'setup':
    await utils.migrate();
    out = { ok: true };
    break;
  case 'enqueue1':
    out = await timedLoops(opts.clients, opts.duration, async () => {
      await utils.addJob(TASK, payload);
      return 1;
    });
    break;
  case 'enqueue100': {
    const specs = Array.from({ length: 100 }, () => ({ identifier: TASK, payload }));
    out = await timedLoops(opts.clients, opts.duration, async () => {
      await utils.addJobs(specs);
      return 100;
    });
    break;
  }
  case 'preload':
    await parallel(chunks(opts.n, 1000), opts.clients, async (k) => {
      await utils.addJobs(Array.from({ length: k }, () => ({ identifier: TASK, payload })));
    });
    out = { tasks: opts.n };
    break;
  case 'drain1':
    out = await drain({});
    break;
  case 'drain10':
    out = await drain({ localQueue: { size: 10 }, completeJobBatchDelay: 0 });
    break;
  default:
    throw new Error(`unknown command ${opts.cmd}`);
}
await utils.release();
await pgPool.end();
report(out);
process.exit(0);
