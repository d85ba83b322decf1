#!/usr/bin/env node
/**
 * `chokepoint <command>`: the collector, the demo, reports and the CI check.
 * Exit codes: 0 success, 1 the command's own failure (`check`: budget broken), 2 usage or
 * internal error, 3 (`check`) the checked command itself failed.
 */
import { collectorHelp, parseCollectorArgs, UsageError } from '../collector/config.js';
import { startCollector } from '../collector/index.js';

const KNOWN_COMMANDS = new Set(['collector', 'demo', 'report', 'check']);

const HELP = `Usage: chokepoint <command> [flags]

Commands:
  collector   run the OTLP receiver, detectors, dashboard and API
  demo        run the collector with the example shop app under load
  report      print the findings with evidence and fixes (text, markdown or json)
  check       run a command (e.g. npm test) under the agent and fail on a broken budget
  help        show this help (or: chokepoint <command> --help)

Attach the agent to your app:
  OTEL_SERVICE_NAME=my-api node --require chokepoint/agent server.js
  OTEL_SERVICE_NAME=my-api node --import chokepoint/agent server.mjs`;

async function runCollector(argv: string[]): Promise<void> {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(collectorHelp());
    return;
  }
  const options = parseCollectorArgs(argv, process.env);
  const collector = await startCollector(options);
  const stop = async (signal: NodeJS.Signals) => {
    console.log(`${signal} received: flushing and closing`);
    await collector.close();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

async function runDemoCommand(argv: string[]): Promise<void> {
  const { DEMO_HELP, parseDemoArgs, runDemo } = await import('./demo.js');
  const options = parseDemoArgs(argv, process.env);
  if (options === 'help') console.log(DEMO_HELP);
  else await runDemo(options);
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'collector':
      return runCollector(rest);
    case 'demo':
      return runDemoCommand(rest);
    case 'report':
      process.exitCode = await (await import('./report.js')).runReport(rest);
      return;
    case 'check':
      process.exitCode = await (await import('./check.js')).runCheck(rest);
      return;
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      console.log(HELP);
      return;
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  if (error instanceof UsageError) {
    const command = process.argv[2];
    const helpFor =
      command && KNOWN_COMMANDS.has(command) ? `chokepoint ${command} --help` : 'chokepoint --help';
    console.error(`chokepoint: ${error.message}\nRun \`${helpFor}\` for usage.`);
  } else {
    console.error(`chokepoint: ${(error as Error).message ?? error}`);
  }
  process.exit(2);
});
