// A plain node:http API with three local dependencies on ports of their own (so three
// hosts): `payments` answers every third charge with a 500 after 50 ms, and the API
// retries once; `recs` holds every fifth call for 2.2 s; `fx` holds calls for 5 s and
// the API gives up after 1.2 s (AbortSignal.timeout). `users` is healthy.
// Run: node --require chokepoint/agent examples/playbook/dependency-app.js
const http = require('node:http');

function dependency(handler) {
  let calls = 0;
  return http.createServer((req, res) => {
    calls += 1;
    const answer = (status, delayMs) =>
      setTimeout(() => res.writeHead(status, { 'content-type': 'application/json' }).end('{}'), delayMs);
    handler(calls, answer, req);
  });
}

const servers = {
  payments: dependency((n, answer) => (n % 3 === 0 ? answer(500, 50) : answer(200, 5))),
  recs: dependency((n, answer) => answer(200, n % 5 === 0 ? 2_200 : 5)),
  fx: dependency((_n, answer) => answer(200, 5_000)),
  users: dependency((_n, answer) => answer(200, 5)),
};
const base = {};

async function charge() {
  for (let attempt = 1; ; attempt++) {
    const response = await fetch(`${base.payments}/charges/${attempt}`, { method: 'POST' });
    await response.arrayBuffer();
    if (response.ok || attempt === 2) return { status: response.status };
  }
}

const routes = {
  '/pay': charge,
  '/recs': async () => (await fetch(`${base.recs}/for/7`)).json(),
  '/quote': async () => {
    try {
      return await (await fetch(`${base.fx}/rates`, { signal: AbortSignal.timeout(1_200) })).json();
    } catch {
      return { rates: 'cached' };
    }
  },
  '/profile': async () => (await fetch(`${base.users}/users/7`)).json(),
};

const api = http.createServer((req, res) => {
  const handler = routes[req.url];
  if (!handler) {
    res.writeHead(404).end();
    return;
  }
  handler().then(
    (body) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body)),
    (error) => res.writeHead(502).end(String(error)),
  );
});

const listen = (server) => new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
Promise.all(Object.values(servers).map(listen)).then(() => {
  for (const [name, server] of Object.entries(servers))
    base[name] = `http://127.0.0.1:${server.address().port}`;
  api.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
    console.log(`dependencies ${JSON.stringify(base)}`);
    console.log(`listening on ${api.address().port}`);
  });
});
