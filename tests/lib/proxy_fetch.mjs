// A fetch() that sends every request through an HTTP forward proxy (a sidecar's outbound listener) in absolute
// form, as an HTTP_PROXY client does; the response body streams (SSE works). For SDKs that take a `fetch` option
// (the MCP and A2A clients), since Node's own fetch does not read HTTP_PROXY.
import http from 'node:http';
import { Readable } from 'node:stream';

export function proxyFetch(proxyPort) {
  return (input, init = {}) => new Promise((resolve, reject) => {
    const url = new URL(typeof input === 'string' || input instanceof URL ? input : input.url);
    const headers = { host: url.host };
    new Headers(init.headers ?? {}).forEach((value, key) => { headers[key] = value; });
    const body = init.body == null ? null : Buffer.from(typeof init.body === 'string' ? init.body : new Uint8Array(init.body));
    if (body) headers['content-length'] = String(body.length);
    const req = http.request({ host: '127.0.0.1', port: proxyPort, method: init.method ?? 'GET', path: url.href, headers }, (res) => {
      const responseHeaders = new Headers();
      for (const [key, value] of Object.entries(res.headers)) {
        for (const v of Array.isArray(value) ? value : [value]) responseHeaders.append(key, v);
      }
      const noBody = res.statusCode === 204 || res.statusCode === 304 || (init.method ?? 'GET') === 'HEAD';
      resolve(new Response(noBody ? null : Readable.toWeb(res), { status: res.statusCode, headers: responseHeaders }));
    });
    req.on('error', reject);
    init.signal?.addEventListener('abort', () => req.destroy(new Error('aborted')));
    if (body) req.write(body);
    req.end();
  });
}
