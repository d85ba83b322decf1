// Starts one playbook app in this process and sends it requests, then stops it: a command to
// run under `chokepoint check` or the agent without a load tool.
// Run: CONNECT=client node examples/playbook/drive.js pool-app.js /orders 40 8
//      (app, path, requests, requests at a time)
const net = require('node:net');
const path = require('node:path');

const [app = 'pool-app.js', route = '/', requests = '20', concurrency = '4'] = process.argv.slice(2);

function freePort() {
  return new Promise((resolve) => {
    const probe = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

async function untilUp(url) {
  for (let attempt = 0; attempt < 100; attempt++) {
    try {
      return await fetch(url);
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  throw new Error(`${url} did not answer`);
}

async function main() {
  process.env.PORT = String(await freePort());
  require(path.join(__dirname, app));
  const url = `http://127.0.0.1:${process.env.PORT}${route}`;
  await (await untilUp(url)).arrayBuffer();
  let left = Number(requests) - 1;
  const worker = async () => {
    while (left-- > 0) await (await fetch(url)).arrayBuffer();
  };
  await Promise.all(Array.from({ length: Number(concurrency) }, worker));
  // The app's own SIGTERM handler closes its server and connections; the process then ends.
  process.kill(process.pid, 'SIGTERM');
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
