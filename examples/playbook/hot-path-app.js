// A plain node:http API whose POST /login checks a password with PBKDF2 (100 000 rounds of
// SHA-512, about 100 ms of CPU). With HASH=sync (the default) it calls crypto.pbkdf2Sync
// on the event loop: every login stalls the whole process (event_loop_blocked), and the
// agent's CPU profile names pbkdf2Sync under hashPassword (hot_path_cpu). With HASH=async
// the same work runs on libuv's thread pool and the loop stays free.
// Run: node --require chokepoint/agent examples/playbook/hot-path-app.js
const http = require('node:http');
const crypto = require('node:crypto');
const { promisify } = require('node:util');

const pbkdf2 = promisify(crypto.pbkdf2);
const SALT = 'per-user-salt-from-the-database';
const ROUNDS = 100_000;

function hashPassword(password) {
  return process.env.HASH === 'async'
    ? pbkdf2(password, SALT, ROUNDS, 64, 'sha512')
    : crypto.pbkdf2Sync(password, SALT, ROUNDS, 64, 'sha512');
}

async function login(req, res) {
  let body = '';
  for await (const chunk of req) body += chunk;
  const { password = '' } = JSON.parse(body || '{}');
  const hash = await hashPassword(String(password));
  res.writeHead(200, { 'content-type': 'application/json' }).end(`{"ok":${hash.length === 64}}`);
}

const server = http.createServer((req, res) => {
  if (req.method === 'POST' && req.url === '/login') {
    login(req, res).catch(() => res.writeHead(400).end());
    return;
  }
  if (req.method === 'GET' && req.url === '/health') {
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
    return;
  }
  res.writeHead(404).end();
});

server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () =>
  console.log(`listening on ${server.address().port}`),
);
