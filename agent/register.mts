/**
 * `node --import chokepoint/agent app.mjs`: registers the import-in-the-middle loader hook
 * so that ES modules are instrumented, then starts the agent.
 *
 * The hook runs in its own thread and wraps only the modules instrumentations asked for:
 * each instrumentation, as it is enabled, sends its module names over a message channel,
 * and the app's imports wait until the loader has acknowledged them all.
 */
import { createRequire, register } from 'node:module';

const require = createRequire(import.meta.url);
const { warnNotStarted } = require('./warn.js') as typeof import('./warn.js');

try {
  const { isDisabledByEnvironment } = require('./config.js') as typeof import('./config.js');
  let waitForLoader = () => Promise.resolve();
  if (!isDisabledByEnvironment(process.env)) {
    // The channel must belong to the import-in-the-middle copy @opentelemetry/instrumentation hooks with.
    const requireFromInstrumentation = createRequire(require.resolve('@opentelemetry/instrumentation'));
    const { createAddHookMessageChannel } = requireFromInstrumentation(
      'import-in-the-middle',
    ) as typeof import('import-in-the-middle');
    const { registerOptions, waitForAllMessagesAcknowledged } = createAddHookMessageChannel();
    register('@opentelemetry/instrumentation/hook.mjs', import.meta.url, registerOptions);
    waitForLoader = waitForAllMessagesAcknowledged;
  }
  (require('./index.js') as typeof import('./index.js')).start();
  await waitForLoader();
} catch (error) {
  warnNotStarted(error);
}
