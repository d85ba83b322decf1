// Preloaded into an app under test (with --expose-gc): on SIGUSR2 it collects garbage fully
// and prints `heap <n> <bytes>`, the memory still reachable (V8 heap in use plus memory held
// outside it by buffers), numbered so a test can wait for the reading it asked for. Unlike
// RSS, this does not move with how large V8 chose to let its heap grow under load.
let readings = 0;
process.on('SIGUSR2', () => {
  globalThis.gc();
  const { heapUsed, external } = process.memoryUsage();
  readings += 1;
  process.stdout.write(`heap ${readings} ${heapUsed + external}\n`);
});
