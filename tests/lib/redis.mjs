// A real redis-server for the integration tests (the strict ledger's store): started on a given 127.0.0.1 port
// without persistence, waited for until it answers PING, and killed when the test process exits, pass or fail.
// It never installs Redis: a missing redis-server or redis-cli fails the test with how to install it.
import { spawn, spawnSync } from 'node:child_process';
import { waitFor } from './harness.mjs';

const redisServers = new Set();
process.on('exit', () => { for (const p of redisServers) { try { p.kill('SIGKILL'); } catch { /* gone */ } } });

export function redisCli(port, ...args) {
  const r = spawnSync('redis-cli', ['-p', String(port), '--raw', ...args], { encoding: 'utf8' });
  if (r.error) throw new Error(`redis-cli is required (scripts/install-deps.sh installs redis-server): ${r.error.message}`);
  return r.stdout.trim();
}

// {port, proc, kill()}: kill() SIGKILLs the server and resolves once it has exited.
export async function startRedis(port) {
  const proc = spawn('redis-server', ['--bind', '127.0.0.1', '--port', String(port), '--save', '', '--appendonly', 'no',
    '--loglevel', 'warning'], { stdio: 'ignore' });
  redisServers.add(proc);
  const exited = new Promise((resolve) => proc.on('exit', () => { redisServers.delete(proc); resolve(); }));
  proc.on('error', (e) => { throw new Error(`redis-server is required (scripts/install-deps.sh): ${e.message}`); });
  await waitFor(() => redisCli(port, 'ping') === 'PONG', { timeoutMs: 10000 });
  return { port, proc, async kill() { proc.kill('SIGKILL'); await exited; } };
}
