// A slow control plane for bench/leased: an HTTP reverse proxy in front of `tollway control` that answers
// POST /v1/usage --delay-ms later than the control plane did (the report is forwarded at once, so the control plane
// decides it with the use it carries; only the node sees the answer late, as from a loaded control plane). Every other
// request (snapshot long polls, ACKs) passes through untouched. Prints "slow control ready" on stdout.
// Usage: node slow_control.mjs --port P --target http://127.0.0.1:CONTROL_PORT --delay-ms D
import http from 'node:http';

const args = process.argv.slice(2);
const opt = (k, d = '') => { const i = args.indexOf(`--${k}`); return i >= 0 ? args[i + 1] : d; };
const port = Number(opt('port'));
const target = new URL(opt('target'));
const delayMs = Number(opt('delay-ms', '300'));
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

http.createServer((req, res) => {
  const delayed = req.method === 'POST' && req.url.startsWith('/v1/usage');
  const upstream = http.request({ host: target.hostname, port: target.port, path: req.url, method: req.method,
    headers: req.headers, agent }, (answer) => {
    const chunks = [];
    answer.on('data', (c) => chunks.push(c));
    answer.on('end', () => {
      const send = () => {
        const headers = { ...answer.headers };
        delete headers['transfer-encoding'];
        headers['content-length'] = Buffer.concat(chunks).length;
        res.writeHead(answer.statusCode, headers);
        res.end(Buffer.concat(chunks));
      };
      if (delayed) setTimeout(send, delayMs); else send();
    });
  });
  upstream.on('error', (e) => { res.writeHead(502); res.end(e.message); });
  req.pipe(upstream);
}).listen(port, '127.0.0.1', () => console.log('slow control ready'));
