// A plain node:http app that serves its own front end from examples/playbook/public
// (static_assets) next to a JSON API.
// Run: node --require chokepoint/agent examples/playbook/static-app.js
const http = require('node:http');
const { createReadStream } = require('node:fs');
const { stat } = require('node:fs/promises');
const { extname, join, normalize } = require('node:path');

const ROOT = join(__dirname, 'public');
const TYPES = { '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml' };

async function serveFile(path, res) {
  const file = join(ROOT, normalize(path).replace(/^(\.\.[/\\])+/, ''));
  const info = await stat(file).catch(() => undefined);
  if (!file.startsWith(ROOT) || !info?.isFile()) {
    res.writeHead(404).end();
    return;
  }
  res.writeHead(200, {
    'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
    'content-length': info.size,
  });
  createReadStream(file).pipe(res);
}

const server = http.createServer((req, res) => {
  if (req.url === '/api/items') {
    res.writeHead(200, { 'content-type': 'application/json' }).end('[{"sku":"A1"}]');
    return;
  }
  if (req.method === 'GET' && req.url?.startsWith('/assets/')) {
    serveFile(req.url, res).catch(() => res.writeHead(500).end());
    return;
  }
  res.writeHead(404).end();
});

server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () =>
  console.log(`listening on ${server.address().port}`),
);
