/**
 * Child-process entry that runs the provider fleet (mock providers behind the fault
 * proxy), so a drill's providers and proxy use a core apart from the gateway and the
 * load engine. The parent is {@link startProviderFleetProcess}; the two talk over IPC.
 */
import { scaledClock, systemClock } from '../clock.js';
import { STOP_SIGNALS } from '../../stop-signals.js';
import { closeHungUpTerminalsAtExit } from '../../terminal-hangup.js';
import type { FleetRequest, FleetResponse } from './fleet-protocol.js';
import { type ProviderFleet, startProviderFleet } from './providers.js';

closeHungUpTerminalsAtExit();

let fleet: ProviderFleet | undefined;

function send(message: FleetResponse): void {
  process.send?.(message);
}

async function start(request: Extract<FleetRequest, { type: 'start' }>): Promise<void> {
  try {
    const clock = request.timeScale === 1 ? systemClock : scaledClock(request.timeScale);
    fleet = await startProviderFleet(request.profiles, clock, request.seed, request.proxy);
    const { proxyApiUrl, providers, endpoints } = fleet;
    send({ type: 'ready', fleet: { proxyApiUrl, providers, endpoints } });
  } catch (error) {
    send({ type: 'failed', message: error instanceof Error ? error.message : String(error) });
    process.exit(1);
  }
}

async function stop(): Promise<void> {
  await fleet?.close();
  fleet = undefined;
  send({ type: 'stopped' });
  process.disconnect?.();
}

process.on('message', (message: FleetRequest) => {
  if (message.type === 'start') void start(message);
  else void stop();
});

// Only the parent stops the fleet. A Ctrl-C at a terminal, the hang-up of a closed terminal or
// SSH session, and a SIGTERM sent to the process group as by `timeout` or a CI runner reach this
// process too. The parent still needs the fault proxy and the mock providers to remove its
// faults. The fleet closes when the parent exits, killed or not, through the `disconnect`
// handler below.
for (const signal of STOP_SIGNALS) process.on(signal, () => undefined);

// The fleet closes when the process that started it exits.
process.on('disconnect', () => {
  void (fleet?.close() ?? Promise.resolve()).finally(() => process.exit(0));
});
