// pg-boss driver for bench/run.sh.  Usage:
//   node pg-boss.mjs setup
//   node pg-boss.mjs enqueue1   --clients 4 --duration 15   (W1: boss.send per job)
//   node pg-boss.mjs enqueue100 --clients 4 --duration 15   (W2: boss.insert of 100 jobs)
//   node pg-boss.mjs preload    --n 200000                  (backlog: boss.insert, 1000 a call)
//   node pg-boss.mjs drain1     --clients 4                 (W3/W5: fetch 1 + complete)
//   node pg-boss.mjs drain10    --clients 4                 (W4: fetch batchSize 10 + complete ids)
//   (drains stop when the queue is empty, or after --max-seconds S when given)
// Prints one JSON line {"tasks":N,"seconds":S}.  The W5 history is made by
// bench/sql/pg-boss_history.sql (preload, then an UPDATE to state 'completed').
import { PgBoss } from 'pg-boss';
import { parseArgs, pgSettings, report, timedLoops, drainLoops, chunks, parallel } from './common.mjs';

const QUEUE = 'bench';
const opts = parseArgs(process.argv.slice(2));
// Pool: one connection per concurrent loop plus room for pg-boss's own maintenance queries.
const boss = new PgBoss(pgSettings({ max: opts.clients + 4 }));
boss.on('error', (e) => console.error('pg-boss error:', e.message || e));
await boss.start();

const data = { n: 1 };
let out;
switch (opts.cmd) {
  case 'setup':
    await boss.createQueue(QUEUE);
    out = { ok: true };
    break;
  case 'enqueue1':
    out = await timedLoops(opts.clients, opts.duration, async () => {
      await boss.send(QUEUE, data);
      return 1;
    });
    break;
  case 'enqueue100': {
    const jobs = Array.from({ length: 100 }, () => ({ data }));
    out = await timedLoops(opts.clients, opts.duration, async () => {
      await boss.insert(QUEUE, jobs);
      return 100;
    });
    break;
  }
  case 'preload':
    await parallel(chunks(opts.n, 1000), opts.clients, async (k) => {
      await boss.insert(QUEUE, Array.from({ length: k }, () => ({ data })));
    });
    out = { tasks: opts.n };
    break;
  case 'drain1':
    out = await drainLoops(opts.clients, async () => {
      const jobs = await boss.fetch(QUEUE);
      if (jobs.length === 0) return 0;
      await boss.complete(QUEUE, jobs[0].id);
      return 1;
    }, opts['max-seconds']);
    break;
  case 'drain10':
    out = await drainLoops(opts.clients, async () => {
      const jobs = await boss.fetch(QUEUE, { batchSize: 10 });
      if (jobs.length === 0) return 0;
      await boss.complete(QUEUE, jobs.map((j) => j.id));
      return jobs.length;
    }, opts['max-seconds']);
    break;
  default:
    throw new Error(`unknown command ${opts.cmd}`);
}
await boss.stop({ graceful: false, timeout: 2000 });
report(out);
process.exit(0);
