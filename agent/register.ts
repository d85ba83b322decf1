/**
 * `node --require chokepoint/agent app.js`: starts the agent before the app's first line.
 * The agent itself is required inside the `try`, so even a broken install costs the app
 * one warning line, never its start.
 */
import { warnNotStarted } from './warn.js';

try {
  (require('./index.js') as typeof import('./index.js')).start();
} catch (error) {
  warnNotStarted(error);
}
