// A do-nothing OTLP/HTTP collector for the telemetry benchmark: reads each export request and answers 200 {}.
// Counts requests and bytes (printed on SIGTERM) so the run can show the export really happened.
import http from 'node:http';
const port = Number(process.argv[2]);
let requests = 0; let bytes = 0;
http.createServer((req, res) => {
  req.on('data', (c) => { bytes += c.length; });
  req.on('end', () => { requests++; res.writeHead(200, { 'content-type': 'application/json' }); res.end('{}'); });
}).listen(port, '127.0.0.1');
process.on('SIGTERM', () => { console.log(JSON.stringify({ requests, bytes })); process.exit(0); });
