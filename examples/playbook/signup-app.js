// A plain node:http API next to a slow local "mail" service (150 ms a message).
// POST /signup waits for the welcome mail before answering (offload_candidate);
// POST /invite answers first and sends the mail after (already off the request);
// GET /profile calls a users service the response needs.
// Run: node --require chokepoint/agent examples/playbook/signup-app.js
const http = require('node:http');

const mail = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => setTimeout(() => res.writeHead(202).end(), 150));
});
const users = http.createServer((_req, res) =>
  setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end('{"id":7}'), 20),
);
let mailBase;
let usersBase;

const sendWelcome = async () => {
  const response = await fetch(`${mailBase}/mail/send`, { method: 'POST', body: '{"template":"welcome"}' });
  await response.arrayBuffer();
};

const routes = {
  'POST /signup': async (res) => {
    await sendWelcome();
    res.writeHead(201).end();
  },
  'POST /invite': async (res) => {
    res.writeHead(201).end();
    await sendWelcome();
  },
  'GET /profile': async (res) => {
    const body = await (await fetch(`${usersBase}/users/7`)).text();
    res.writeHead(200, { 'content-type': 'application/json' }).end(body);
  },
};

const api = http.createServer((req, res) => {
  const handler = routes[`${req.method} ${req.url}`];
  if (!handler) {
    res.writeHead(404).end();
    return;
  }
  handler(res).catch((error) => {
    if (!res.headersSent) res.writeHead(500).end(String(error));
  });
});

const listen = (server) => new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
Promise.all([listen(mail), listen(users)]).then(() => {
  mailBase = `http://127.0.0.1:${mail.address().port}`;
  usersBase = `http://127.0.0.1:${users.address().port}`;
  api.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () =>
    console.log(`listening on ${api.address().port}`),
  );
});
