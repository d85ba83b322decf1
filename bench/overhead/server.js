// The app the overhead bench loads, bare or under an agent. `/ok` answers a constant;
// `/db` reads one row by primary key from a 10k-row better-sqlite3 table and one Redis
// key. `/__cpu` reports the CPU time this process has used and the requests it served,
// so the bench can charge CPU to requests without counting the load generator's;
// `/__profile/start` and `/__profile/stop?file=…` record a V8 CPU profile of just the
// stretch in between (start-up and warm-up left out).
const { writeFileSync } = require('node:fs');
const http = require('node:http');
const { Session } = require('node:inspector');
const Database = require('better-sqlite3');
const Redis = require('ioredis');

const ROWS = 10_000;
const redisKey = `chokepoint:bench:${process.pid}:greeting`;

const db = new Database(':memory:');
db.exec('CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL, plan TEXT NOT NULL)');
const insert = db.prepare('INSERT INTO users (id, name, plan) VALUES (?, ?, ?)');
db.transaction(() => {
  for (let id = 1; id <= ROWS; id++) insert.run(id, `user ${id}`, id % 10 === 0 ? 'pro' : 'free');
})();
const userById = db.prepare('SELECT id, name, plan FROM users WHERE id = ?');
// The bench starts a Redis of its own and names its port (bench/lib/redis.mjs); else the machine's.
const redisPort = Number(process.env.BENCH_REDIS_PORT ?? 6379);
const redis = new Redis({ host: '127.0.0.1', port: redisPort });

let served = 0;
let nextId = 0;
let profiler;

function profileCommand(url, res) {
  const done = (error) => res.writeHead(error ? 500 : 200).end(error ? String(error) : 'ok');
  if (url.pathname === '/__profile/start') {
    profiler ??= new Session();
    profiler.connect();
    profiler.post('Profiler.enable', () => profiler.post('Profiler.start', done));
  } else {
    profiler.post('Profiler.stop', (error, result) => {
      if (!error) writeFileSync(url.searchParams.get('file'), JSON.stringify(result.profile));
      profiler.disconnect();
      done(error);
    });
  }
}

const server = http.createServer((req, res) => {
  if (req.url === '/ok') {
    served++;
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
  } else if (req.url === '/db') {
    served++;
    nextId = (nextId % ROWS) + 1;
    const user = userById.get(nextId);
    redis.get(redisKey).then(
      (greeting) => {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ user, greeting }));
      },
      (error) => res.writeHead(500).end(String(error)),
    );
  } else if (req.url.startsWith('/__profile/')) {
    profileCommand(new URL(req.url, 'http://localhost'), res);
  } else if (req.url === '/__cpu') {
    const { user, system } = process.cpuUsage();
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({ userMicros: user, systemMicros: system, served, rssBytes: process.memoryUsage.rss() }),
    );
  } else {
    res.writeHead(404).end();
  }
});

redis.set(redisKey, 'hello', 'EX', 3600).then(
  () => server.listen(0, '127.0.0.1', () => console.log(`listening on ${server.address().port}`)),
  (error) => {
    console.error(`cannot reach Redis on 127.0.0.1:${redisPort}: ${error.message}`);
    process.exit(1);
  },
);
process.on('SIGTERM', () => {
  server.close();
  redis.quit().finally(() => process.exit(0));
});
