#!/usr/bin/env node
// Runs the TypeScript CLI through tsx, so no build step stands between a
// checkout and the `scalegate` command.

// A SIGINT, SIGTERM or SIGHUP while tsx loads is kept, and sent again once the
// CLI's start handlers are in, so it gets their message and exit code. The list
// is STOP_SIGNALS of src/stop-signals.ts, which cannot load before tsx does.
// NOTE: a signal before this line runs, while Node.js boots, still ends the
// process by the signal.
let bootSignal;
const keepBootSignal = (signal) => {
  bootSignal ??= signal;
};
const BOOT_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'];
for (const signal of BOOT_SIGNALS) process.on(signal, keepBootSignal);

const { register } = await import('tsx/esm/api');
register();
const { closeHungUpTerminalsAtExit } = await import('../src/terminal-hangup.js');
closeHungUpTerminalsAtExit();
// Loading the CLI's modules takes seconds on a busy machine, so the handlers
// for a signal in that time go in first.
const { armStartInterrupt } = await import('../src/cli/start-interrupt.js');
armStartInterrupt();
for (const signal of BOOT_SIGNALS) process.off(signal, keepBootSignal);
if (bootSignal !== undefined) process.kill(process.pid, bootSignal);
await import('../src/cli/main.ts');
