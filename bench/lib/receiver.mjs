// A fast webhook receiver for the benchmarks: answers every delivery 204 at once and counts
// them by webhook-id. It runs on a thread of its own, so that receiving (thousands of
// requests a second) does not slow the load generator's event loop, as a receiver on
// another machine would not. For the same reason it can run at a lower priority (a nice
// value, which Linux applies to the calling thread alone): a receiver elsewhere would not
// take the cores the server under test needs.
import { createServer } from 'node:http';
import os from 'node:os';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';

/** How often the thread reports what arrived. */
const REPORT_MS = 100;

if (!isMainThread) {
  // Only ever lowered: raising a priority needs a privilege the bench does not ask for.
  if (workerData.nice > os.getPriority()) os.setPriority(workerData.nice);
  let ids = [];
  let arrivals = [];
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      ids.push(req.headers['webhook-id']);
      arrivals.push(Date.now());
      res.writeHead(204).end();
    });
  });
  const report = () => {
    if (ids.length === 0) return;
    parentPort.postMessage({ ids, arrivals });
    ids = [];
    arrivals = [];
  };
  setInterval(report, REPORT_MS);
  parentPort.on('message', () => {
    report();
    server.close(() => process.exit(0));
  });
  server.listen(0, '127.0.0.1', () => parentPort.postMessage({ port: server.address().port }));
}

/** Starts the receiver thread at `nice`; `ids` counts deliveries per webhook-id, `arrivals` their times. */
export async function startReceiver({ nice = 0 } = {}) {
  const worker = new Worker(new URL(import.meta.url), { workerData: { nice } });
  const ids = new Map();
  const arrivals = [];
  const port = await new Promise((resolve, reject) => {
    worker.once('error', reject);
    worker.on('message', (message) => {
      if (message.port !== undefined) resolve(message.port);
      for (const id of message.ids ?? []) ids.set(id, (ids.get(id) ?? 0) + 1);
      arrivals.push(...(message.arrivals ?? []));
    });
  });
  return {
    url: `http://127.0.0.1:${port}/hooks`,
    ids,
    arrivals,
    close: () =>
      new Promise((resolve) => {
        worker.once('exit', resolve);
        worker.postMessage('close');
      }),
  };
}
