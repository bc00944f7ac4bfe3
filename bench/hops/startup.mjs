// Startup to ready of a sidecar (issue 17: ≤ 50 ms from a persisted snapshot): spawns `tollway sidecar` COUNT times
// (a) under control, booting from a persisted snapshot (the control plane's URL refuses connections) and (b) from
// its config file, and times each from the spawn to its "sidecar ready" line. The config given is copied with its
// listeners on port 0. Prints {"persisted":[ms...],"file":[ms...]}.
// Usage: node startup.mjs --bin TOLLWAY --config SIDECAR.yaml --dir SCRATCH [--count 10] [--core 1]
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
};
const bin = opt('bin');
const count = Number(opt('count', '10'));
const core = opt('core', '1');
const dir = opt('dir');

const document = fs.readFileSync(opt('config'), 'utf8')
  .replace(/^(\s+(?:outbound|inbound|admin):\s*)127\.0\.0\.1:\d+/gm, (_, key) => `${key}127.0.0.1:0`);
fs.mkdirSync(path.join(dir, 'state'), { recursive: true });
fs.writeFileSync(path.join(dir, 'sidecar.yaml'), document);
fs.writeFileSync(path.join(dir, 'state', 'snapshot.yaml'), document);
fs.writeFileSync(path.join(dir, 'token'), 'bench-token\n');

// A port nothing listens on: the control plane is down (refused at once, as after its crash).
const closedPort = await new Promise((resolve) => {
  const s = net.createServer().listen(0, '127.0.0.1', () => {
    const { port } = s.address();
    s.close(() => resolve(port));
  });
});

function timeToReady(extra) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn('taskset', ['-c', core, bin, 'sidecar', ...extra], { stdio: ['ignore', 'ignore', 'pipe'] });
    let seen = '';
    child.stderr.on('data', (chunk) => {
      seen += chunk;
      if (!seen.includes('"sidecar ready"')) return;
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      child.stderr.removeAllListeners('data');
      child.on('exit', () => resolve(ms));
      child.kill('SIGTERM');
    });
    child.on('exit', (code) => {
      if (!seen.includes('"sidecar ready"')) reject(new Error(`sidecar exited ${code} before ready: ${seen}`));
    });
  });
}

const persisted = [];
const file = [];
for (let i = 0; i < count; i++) {
  persisted.push(await timeToReady(['--control', `http://127.0.0.1:${closedPort}`, '--node', 'bench',
    '--token-file', path.join(dir, 'token'), '--state-dir', path.join(dir, 'state')]));
  file.push(await timeToReady(['--config', path.join(dir, 'sidecar.yaml')]));
}
const round = (xs) => xs.map((x) => Math.round(x * 10) / 10);
process.stdout.write(`${JSON.stringify({ persisted: round(persisted), file: round(file) })}\n`);
