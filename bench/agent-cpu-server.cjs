// The app bench/agent-cpu.mjs measures: two endpoints, and /__cpu, which reports the CPU time
// this process has used and how many requests it served (not counting itself).
const http = require('node:http');
const Database = require('better-sqlite3');

const selectItem = new Database(':memory:').prepare('SELECT 1 AS id, ? AS sku');
let served = 0;

const server = http.createServer((request, response) => {
  if (request.url === '/__cpu') {
    const { user, system } = process.cpuUsage();
    response.end(JSON.stringify({ cpuMicros: user + system, served }));
    return;
  }
  served += 1;
  const body = request.url === '/sqlite' ? selectItem.get('sku-1') : { ok: true };
  response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
});
server.listen(0, '127.0.0.1', () => console.log(`listening on ${server.address().port}`));
