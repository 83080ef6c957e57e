import { readFileSync } from "node:fs";
import { createServer } from "node:net";

/**
 * A port for a host that refuses connections: nothing may listen on it while the fleet runs.
 * A port the kernel hands out for `listen(0)` would soon be handed to another listener (another
 * simulated host, the engine's own servers) and the "switched off" host would answer. So the port
 * is picked below the kernel's ephemeral range, which `listen(0)` never hands out.
 */
const ephemeralRange = "/proc/sys/net/ipv4/ip_local_port_range";
const lowestPicked = 10000;
const attempts = 50;

export async function refusedPort(address: string): Promise<number> {
  const below = firstEphemeralPort();
  for (let attempt = 0; attempt < attempts; attempt += 1) {
    const port = lowestPicked + Math.floor(Math.random() * (below - lowestPicked));
    if (await isFree(address, port)) return port;
  }
  throw new Error(`no free port below ${below} on ${address} for a host that refuses connections`);
}

function firstEphemeralPort(): number {
  try {
    const [low] = readFileSync(ephemeralRange, "utf8").trim().split(/\s+/).map(Number);
    if (low !== undefined && Number.isInteger(low) && low > lowestPicked + 1000) return low;
  } catch {
    // Not Linux: take the IANA dynamic range's start.
  }
  return 49152;
}

function isFree(address: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once("error", () => resolve(false));
    probe.listen(port, address, () => probe.close(() => resolve(true)));
  });
}
