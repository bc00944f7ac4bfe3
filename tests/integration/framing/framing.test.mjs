// Raw-socket framing suite: every malformed or ambiguous request is answered 400 (or 408/413/414/431/501/505
// where that is the right answer) or by a close, and NOT ONE BYTE of it reaches the origin (the mock counts the
// bytes read on every TCP connection, parsed or not). Positive controls send the same shapes well-formed and
// must reach the origin, so the suite can fail both ways.
//
// Payload sources (bytes only; the expectations are RFC 9112's and tollway's "strict on input" rule):
//   [llhttp]  nodejs/llhttp test/request/{invalid,content-length,transfer-encoding}.md error cases
//   [PS]      PortSwigger Web Security Academy, HTTP request smuggling labs (CL.TE / TE.CL basic, TE.TE
//             obfuscation) and "Obfuscating the TE header" variants
//   [RFC]     RFC 9112 §2-7 / RFC 9110 §5 grammar (cases written from the ABNF)
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startMock, startGateway, testConfig, rawRequest, sleep } from '../../lib/harness.mjs';

const HOST = 'Host: 127.0.0.1\r\n';
const JSON_BODY = '{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}';
const CHAT = 'POST /v1/chat/completions HTTP/1.1\r\n';
// A bodyless request the gateway proxies (GET /v1/models is answered by the gateway itself).
const MODELS = 'GET /v1/responses/r1 HTTP/1.1\r\n';
const CT = 'Content-Type: application/json\r\n';
const chunkedOf = (s, size = 16) => {
  let out = '';
  for (let i = 0; i < s.length; i += size) { const c = s.slice(i, i + size); out += `${c.length.toString(16)}\r\n${c}\r\n`; }
  return `${out}0\r\n\r\n`;
};
const J5 = JSON_BODY.length;

// [name, source, bytes, allowed statuses, {keepAliveOk}]  (a close without any response is always allowed; after
// an error response the connection must be closed unless keepAliveOk)
const BAD = [
  // ---- Content-Length / Transfer-Encoding ambiguity ------------------------------------------------------
  ['CL.TE basic (CL and TE both present)', 'PS', `POST /v1/chat/completions HTTP/1.1\r\n${HOST}Content-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nG`, [400]],
  ['TE.CL basic (TE and CL both present)', 'PS', `${CHAT}${HOST}Content-Type: application/x-www-form-urlencoded\r\nContent-length: 4\r\nTransfer-Encoding: chunked\r\n\r\n5c\r\nGPOST /v1/chat/completions HTTP/1.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 15\r\n\r\nx=1\r\n0\r\n\r\n`, [400]],
  ['TE.TE obfuscation: chunked + Transfer-encoding: cow', 'PS', `${CHAT}${HOST}Content-length: 4\r\nTransfer-Encoding: chunked\r\nTransfer-encoding: cow\r\n\r\n5c\r\nGPOST / HTTP/1.1\r\n\r\n0\r\n\r\n`, [400]],
  ['CL + TE: identity', 'llhttp', `PUT /v1/chat/completions HTTP/1.1\r\n${HOST}Content-Length: 1\r\nTransfer-Encoding: identity\r\n\r\nx`, [400, 501]],
  ['empty TE with CL', 'llhttp', `${CHAT}${HOST}Transfer-Encoding:\r\nContent-Length: 5\r\n\r\nhello`, [400]],
  ['empty TE x3 with CL 10', 'llhttp', `${CHAT}${HOST}Content-Length: 10\r\nTransfer-Encoding:\r\nTransfer-Encoding:\r\nTransfer-Encoding:\r\n\r\n2\r\nAA\r\n0\r\n`, [400]],
  ['duplicate Content-Length, different values', 'llhttp', `${CHAT}${HOST}Content-Length: 1\r\nContent-Length: 2\r\n\r\nxy`, [400]],
  ['Content-Length list with different values', 'RFC', `${CHAT}${HOST}Content-Length: 5, 6\r\n\r\nhello!`, [400]],
  ['Content-Length "4 2"', 'llhttp', `${CHAT}${HOST}Content-Length: 4 2\r\n\r\n`, [400]],
  ['Content-Length "13 37"', 'llhttp', `${CHAT}${HOST}Content-Length: 13 37\r\n\r\n`, [400]],
  ['empty Content-Length', 'llhttp', `${CHAT}${HOST}Content-Length:\r\n\r\n`, [400]],
  ['Content-Length overflow', 'llhttp', `PUT /v1/chat/completions HTTP/1.1\r\n${HOST}Content-Length: 1000000000000000000000\r\n\r\n`, [400, 413]],
  ['Content-Length 2^64 exactly', 'RFC', `${CHAT}${HOST}Content-Length: 18446744073709551616\r\n\r\n`, [400, 413]],
  ['negative Content-Length', 'RFC', `${CHAT}${HOST}Content-Length: -1\r\n\r\n`, [400]],
  ['Content-Length with +', 'RFC', `${CHAT}${HOST}Content-Length: +${J5}\r\n\r\n${JSON_BODY}`, [400]],
  ['Content-Length in hex', 'RFC', `${CHAT}${HOST}Content-Length: 0x${J5.toString(16)}\r\n\r\n${JSON_BODY}`, [400]],
  ['Content-Length with CR instead of dash', 'llhttp', `PUT /v1/chat/completions HTTP/1.1\r\n${HOST}Content\rLength: 003\r\n\r\nabc`, [400]],
  ['TE: pigeons (unknown coding)', 'llhttp', `PUT /v1/chat/completions HTTP/1.1\r\n${HOST}Transfer-Encoding: pigeons\r\n\r\n`, [400, 501]],
  ['TE: xchunked', 'PS', `${CHAT}${HOST}Transfer-Encoding: xchunked\r\nContent-Length: 5\r\n\r\nhello`, [400, 501]],
  ['TE: chunkedchunked', 'llhttp', `${CHAT}${HOST}Transfer-Encoding: chunkedchunked\r\n\r\n5\r\nWorld\r\n0\r\n\r\n`, [400, 501]],
  ['TE: chunked, deflate (chunked not final)', 'llhttp', `${CHAT}${HOST}Transfer-Encoding: chunked, deflate\r\n\r\nWorld`, [400]],
  ['TE: chunked then TE: deflate (chunked not final)', 'llhttp', `${CHAT}${HOST}Transfer-Encoding: chunked\r\nTransfer-Encoding: deflate\r\n\r\nWorld`, [400]],
  // framing is well-defined (chunked is final), so the connection may stay open if the body was consumed:
  // checked separately below
  ['TE: deflate, chunked (coding the gateway cannot forward)', 'llhttp', `${CHAT}${HOST}Transfer-Encoding: deflate, chunked\r\n\r\n5\r\nWorld\r\n0\r\n\r\n`, [400, 501], { keepAliveOk: true }],
  ['TE: chunked, chunked (chunked applied twice)', 'RFC', `${CHAT}${HOST}Transfer-Encoding: chunked, chunked\r\n\r\n${chunkedOf(JSON_BODY)}`, [400, 501]],
  ['space before colon: "Transfer-Encoding : chunked"', 'PS', `${CHAT}${HOST}Content-Length: 4\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n`, [400]],
  ['TE with vertical tab', 'PS', `${CHAT}${HOST}Transfer-Encoding:\x0bchunked\r\n\r\n0\r\n\r\n`, [400]],
  ['TE name then LF-fold: "Transfer-Encoding\\n : chunked"', 'PS', `${CHAT}${HOST}Transfer-Encoding\n : chunked\r\n\r\n0\r\n\r\n`, [400]],
  ['bare LF before TE: "X: X\\nTransfer-Encoding: chunked"', 'PS', `${CHAT}${HOST}X: X\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n`, [400]],
  ['obs-fold after TE: chunked', 'llhttp', `PUT /v1/chat/completions HTTP/1.1\r\n${HOST}Transfer-Encoding: chunked\r\n  abc\r\n\r\n5\r\nWorld\r\n0\r\n\r\n`, [400]],
  ['TE in an HTTP/1.0 request', 'RFC', `POST /v1/chat/completions HTTP/1.0\r\n${HOST}Transfer-Encoding: chunked\r\n\r\n${chunkedOf(JSON_BODY)}`, [400]],

  // ---- header syntax ---------------------------------------------------------------------------------------
  ['obs-fold continuation line', 'RFC', `${MODELS}${HOST}X-Folded: a\r\n b\r\n\r\n`, [400]],
  ['spaces before a header (fold hiding Content-Length)', 'llhttp', `POST /v1/chat/completions HTTP/1.1\r\n${HOST}Foo: bar\r\n Content-Length: 38\r\n\r\nGET /bye HTTP/1.1\r\nHost: localhost\r\n\r\n`, [400]],
  ['whitespace line right after the request line', 'llhttp', `${MODELS} Host: foo\r\n\r\n`, [400]],
  ['header lines separated by bare CR', 'llhttp', `${MODELS}${HOST}Foo: 1\rBar: 2\r\n\r\n`, [400]],
  ['header lines separated by bare LF (hides TE)', 'llhttp', `${CHAT}Host: localhost:5000\r\nx:x\nTransfer-Encoding: chunked\r\n\r\n1\r\nA\r\n0\r\n\r\n`, [400]],
  ['empty header then bare CR (hides TE)', 'llhttp', `${CHAT}Connection: Close\r\nHost: localhost:5000\r\nx:\rTransfer-Encoding: chunked\r\n\r\n1\r\nA\r\n0\r\n\r\n`, [400]],
  ['empty header then bare LF (hides TE)', 'llhttp', `${CHAT}Host: localhost:5000\r\nx:\nTransfer-Encoding: chunked\r\n\r\n1\r\nA\r\n0\r\n\r\n`, [400]],
  ['dummy \\rZ between headers and a smuggled request', 'llhttp', `${MODELS}Connection: close\r\nHost: a\r\n\rZGET /evil: HTTP/1.1\r\nHost: a\r\n\r\n`, [400]],
  ['missing CR between headers (hides Content-Length)', 'llhttp', `${MODELS}Host: localhost\r\nDummy: x\nContent-Length: 23\r\n\r\nGET / HTTP/1.1\r\nDummy: GET /admin HTTP/1.1\r\nHost: localhost\r\n\r\n`, [400]],
  ['only LF line endings', 'llhttp', 'POST /v1/chat/completions HTTP/1.1\nTransfer-Encoding: chunked\n\n1\nA\n0\n\n', [400]],
  ['invalid token in header name "Fo@"', 'llhttp', `${MODELS}${HOST}Fo@: Failure\r\n\r\n`, [400]],
  ['header name with \\x01 and \\t', 'llhttp', `${MODELS}${HOST}Foo\x01\ttest: Bar\r\n\r\n`, [400]],
  ['empty header name', 'llhttp', `${MODELS}${HOST}: Bar\r\n\r\n`, [400]],
  ['header name folded onto the next line', 'llhttp', `${MODELS}${HOST}name\r\n : value\r\n\r\n`, [400]],
  ['corrupted Connection header (CR ESC in name)', 'llhttp', `${MODELS}Host: www.example.com\r\nConnection\r\x1b\x35\xd5eep-Alive\r\nAccept-Encoding: gzip\r\n\r\n`, [400]],
  ['space before colon in a header name', 'RFC', `${MODELS}${HOST}X-Api-Key : k\r\n\r\n`, [400]],
  ['header line without a colon', 'RFC', `${MODELS}${HOST}NoColonHere\r\n\r\n`, [400]],
  ['NUL in a header value', 'RFC', `${MODELS}${HOST}X-Test: a\x00b\r\n\r\n`, [400]],
  ['NUL in a header name', 'RFC', `${MODELS}${HOST}X-Te\x00st: ab\r\n\r\n`, [400]],
  ['CTL \\x01 in a header value', 'RFC', `${MODELS}${HOST}X-Test: a\x01b\r\n\r\n`, [400]],
  ['DEL in a header value', 'RFC', `${MODELS}${HOST}X-Test: a\x7fb\r\n\r\n`, [400]],
  ['bare CR inside a header value', 'RFC', `${MODELS}${HOST}X-Test: a\rb\r\n\r\n`, [400]],
  ['HTTP/1.1 request without Host', 'RFC', `${MODELS}Accept: */*\r\n\r\n`, [400]],
  ['two Host headers', 'RFC', `${MODELS}${HOST}Host: evil.example\r\n\r\n`, [400]],
  ['header block over max_header_block', 'RFC', `${MODELS}${HOST}${'X-Pad: ' + 'p'.repeat(200) + '\r\n'}`.repeat(1) + `X-Big: ${'b'.repeat(5000)}\r\n\r\n`, [431, 400]],

  // ---- chunked body ----------------------------------------------------------------------------------------
  ['chunk size "0x5"', 'RFC', `${CHAT}${HOST}${CT}Transfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n`, [400]],
  ['chunk size "+5"', 'RFC', `${CHAT}${HOST}${CT}Transfer-Encoding: chunked\r\n\r\n+5\r\nhello\r\n0\r\n\r\n`, [400]],
  ['chunk size "-5"', 'RFC', `${CHAT}${HOST}${CT}Transfer-Encoding: chunked\r\n\r\n-5\r\nhello\r\n0\r\n\r\n`, [400]],
  ['chunk size "1_0"', 'RFC', `${CHAT}${HOST}${CT}Transfer-Encoding: chunked\r\n\r\n1_0\r\n0123456789abcdef\r\n0\r\n\r\n`, [400]],
  ['chunk size overflow (17 hex digits)', 'RFC', `${CHAT}${HOST}${CT}Transfer-Encoding: chunked\r\n\r\n1${'0'.repeat(16)}5\r\nhello\r\n0\r\n\r\n`, [400, 413]],
  ['chunk size ffffffffffffffff', 'RFC', `${CHAT}${HOST}${CT}Transfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\nhello\r\n0\r\n\r\n`, [400, 413]],
  ['empty chunk size line', 'RFC', `${CHAT}${HOST}${CT}Transfer-Encoding: chunked\r\n\r\n\r\nhello\r\n0\r\n\r\n`, [400]],
  ['space after chunk size', 'llhttp', `PUT /v1/chat/completions HTTP/1.1\r\n${HOST}Transfer-Encoding: chunked\r\n\r\na \r\n0123456789\r\n0\r\n\r\n`, [400]],
  ['chunk size, space, junk (no semicolon)', 'llhttp', `${CHAT}${HOST}Transfer-encoding: chunked\r\n\r\n2 erfrferferf\r\naa\r\n0 rrrr\r\n\r\n`, [400]],
  ['chunk size then bare LF and spaces', 'llhttp', `PUT /v1/chat/completions HTTP/1.1\r\n${HOST}Transfer-Encoding: chunked\r\n\r\n3 \n  \r\nfoo\r\n\r\n`, [400]],
  ['chunk size line ended by CR CR', 'llhttp', `GET /v1/responses/r1 HTTP/1.1\r\nHost: a\r\nConnection: close \r\nTransfer-Encoding: chunked \r\n\r\n5\r\r;ABCD\r\n34\r\nE\r\n0\r\n\r\nGET / HTTP/1.1 \r\nHost: a\r\nContent-Length: 5\r\n\r\n0\r\n\r\n`, [400]],
  ['chunk data not followed by CRLF', 'llhttp', `GET /v1/responses/r1 HTTP/1.1\r\nHost: a\r\nConnection: close \r\nTransfer-Encoding: chunked \r\n\r\n5\r\nABCDE0\r\n\r\n`, [400]],
  ['chunk data followed by bare LF', 'RFC', `${CHAT}${HOST}${CT}Transfer-Encoding: chunked\r\n\r\n5\r\nhello\n0\r\n\r\n`, [400]],
  ['chunk size line ended by bare LF', 'RFC', `${CHAT}${HOST}${CT}Transfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n`, [400]],
  ['missing last-chunk', 'llhttp', `PUT /v1/chat/completions HTTP/1.1\r\n${HOST}Transfer-Encoding: chunked\r\n\r\n3\r\nfoo\r\n\r\n`, [400]],
  ['semicolon without extension', 'llhttp', `${CHAT}Host: localhost\r\nTransfer-encoding: chunked\r\n\r\n2;\r\naa\r\n0\r\n\r\n`, [400]],
  ['unbalanced quote in chunk extension', 'llhttp', `${CHAT}${HOST}Transfer-Encoding: chunked\r\n\r\n5;ilovew3="abc";somuchlove="def; ghi\r\nhello\r\n6;blahblah;blah\r\n world\r\n0\r\n\r\n`, [400]],
  ['malformed trailer line', 'RFC', `${CHAT}${HOST}${CT}Transfer-Encoding: chunked\r\n\r\n${chunkedOf(JSON_BODY).slice(0, -2)}Bad Trailer No Colon\r\n\r\n`, [400]],

  // ---- request line ----------------------------------------------------------------------------------------
  ['method with a CTL', 'RFC', `G\x01T /v1/responses/r1 HTTP/1.1\r\n${HOST}\r\n`, [400]],
  ['method with "("', 'RFC', `GET( /v1/responses/r1 HTTP/1.1\r\n${HOST}\r\n`, [400]],
  ['empty method (line starts with space)', 'RFC', ` /v1/responses/r1 HTTP/1.1\r\n${HOST}\r\n`, [400]],
  ['two spaces between method and target', 'RFC', `GET  /v1/responses/r1 HTTP/1.1\r\n${HOST}\r\n`, [400]],
  ['space inside the target', 'RFC', `GET /v1/mod els HTTP/1.1\r\n${HOST}\r\n`, [400]],
  ['trailing space after the version', 'RFC', `GET /v1/responses/r1 HTTP/1.1 \r\n${HOST}\r\n`, [400]],
  ['NUL in the target', 'RFC', `GET /v1/mo\x00dels HTTP/1.1\r\n${HOST}\r\n`, [400]],
  ['DEL in the target', 'RFC', `GET /v1/mo\x7fdels HTTP/1.1\r\n${HOST}\r\n`, [400]],
  ['fragment in the target', 'RFC', `GET /v1/responses/r1#frag HTTP/1.1\r\n${HOST}\r\n`, [400]],
  ['target not starting with /', 'RFC', `GET v1/models HTTP/1.1\r\n${HOST}\r\n`, [400]],
  ['asterisk-form with GET', 'RFC', `GET * HTTP/1.1\r\n${HOST}\r\n`, [400]],
  ['CONNECT authority-form', 'RFC', `CONNECT 127.0.0.1:80 HTTP/1.1\r\n${HOST}\r\n`, [400, 404, 405, 501]],
  ['version HTTP/5.6', 'llhttp', `GET /v1/responses/r1 HTTP/5.6\r\n${HOST}\r\n`, [400, 505]],
  ['version HTTP/2.0 on an HTTP/1 connection', 'RFC', `GET /v1/responses/r1 HTTP/2.0\r\n${HOST}\r\n`, [400, 505]],
  ['version "HTTP/1.1x"', 'RFC', `GET /v1/responses/r1 HTTP/1.1x\r\n${HOST}\r\n`, [400]],
  ['version "HTTP/1"', 'RFC', `GET /v1/responses/r1 HTTP/1\r\n${HOST}\r\n`, [400, 505]],
  ['lowercase "http/1.1"', 'RFC', `GET /v1/responses/r1 http/1.1\r\n${HOST}\r\n`, [400]],
  ['ICE/1.0 protocol', 'llhttp', `GET /v1/responses/r1 ICE/1.0\r\n${HOST}\r\n`, [400]],
  ['IHTTP/1.0 protocol', 'llhttp', `GET /v1/responses/r1 IHTTP/1.0\r\n${HOST}\r\n`, [400]],
  ['RTSP/1.0 protocol', 'llhttp', `PUT /v1/responses/r1 RTSP/1.0\r\n${HOST}\r\n`, [400]],
  ['HTTP/0.9 style (no version)', 'RFC', 'GET /v1/responses/r1\r\n\r\n', [400]],
  ['request line over max_request_line', 'RFC', `GET /v1/responses/r1?q=${'a'.repeat(2000)} HTTP/1.1\r\n${HOST}\r\n`, [414]],
];

// Well-formed twins: each must reach the origin and be answered 200.
const GOOD = [
  ['Content-Length body', `${CHAT}${HOST}${CT}Content-Length: ${J5}\r\n\r\n${JSON_BODY}`],
  ['Content-Length with leading zeros', `${CHAT}${HOST}${CT}Content-Length: 00${J5}\r\n\r\n${JSON_BODY}`],
  ['chunked body', `${CHAT}${HOST}${CT}Transfer-Encoding: chunked\r\n\r\n${chunkedOf(JSON_BODY)}`],
  ['chunked, uppercase hex sizes and 000 last-chunk', `${CHAT}${HOST}${CT}Transfer-Encoding: chunked\r\n\r\n${chunkedOf(JSON_BODY, 26).replace(/^1a\r\n/gm, '1A\r\n').replace(/0\r\n\r\n$/, '000\r\n\r\n')}`],
  ['chunk extensions (token and quoted)', `${CHAT}${HOST}${CT}Transfer-Encoding: chunked\r\n\r\n${JSON_BODY.length.toString(16)};a=b;q="x y"\r\n${JSON_BODY}\r\n0;last\r\n\r\n`],
  ['chunked with a trailer field', `${CHAT}${HOST}${CT}Transfer-Encoding: chunked\r\n\r\n${chunkedOf(JSON_BODY).slice(0, -2)}X-Trailer: t\r\n\r\n`],
  ['Transfer-Encoding: Chunked (case-insensitive)', `${CHAT}${HOST}${CT}Transfer-Encoding: Chunked\r\n\r\n${chunkedOf(JSON_BODY)}`],
  ['GET with ordinary headers', `${MODELS}${HOST}Accept: */*\r\nX-Test: a b\tc\r\n\r\n`],
  ['tab as optional whitespace around a value', `${MODELS}${HOST}X-Test:\tvalue\t\r\n\r\n`],
  ['header value with obs-text (0x80-0xff)', `${MODELS}${HOST}X-Test: caf\xe9\r\n\r\n`],
  ['HTTP/1.0 with Content-Length', `POST /v1/chat/completions HTTP/1.0\r\n${CT}Content-Length: ${J5}\r\n\r\n${JSON_BODY}`],
  ['query string in the target', `GET /v1/responses/r1?a=1&b=%20x HTTP/1.1\r\n${HOST}\r\n`],
  ['request line just under max_request_line', `GET /v1/responses/r1?q=${'a'.repeat(900)} HTTP/1.1\r\n${HOST}\r\n`],
];

describe('HTTP/1.1 framing: malformed requests never reach the origin', () => {
  let mock; let gw;
  const summary = [];
  before(async () => {
    mock = await startMock();
    gw = await startGateway({ config: testConfig({ openaiUrl: mock.url, over: {
      limits: { max_request_line: '1KiB', max_header_block: '4KiB', max_body: '64KiB' },
      timeouts: { header_read: '1s', body_read: '1s' },
    } }) });
  });
  after(async (t) => {
    await gw?.stop(); await mock?.close();
    if (summary.length) console.log(summary.join('\n'));
  });

  async function send(bytes, untilResponses = 0) {
    const before = { bytes: mock.rawBytes(), conns: mock.tcpConnectionCount(), reqs: mock.requests.length };
    const res = await rawRequest(gw.port, Buffer.from(bytes, 'latin1'), { timeoutMs: 2500, untilResponses });
    await sleep(60); // anything forwarded would have reached the mock by now
    return { res, bytes: mock.rawBytes() - before.bytes, reqs: mock.requests.length - before.reqs,
      conns: mock.tcpConnectionCount() - before.conns };
  }

  for (const [name, source, bytes, allowed, opts = {}] of BAD) {
    it(`rejects: ${name} [${source}]`, async () => {
      const { res, bytes: originBytes, reqs } = await send(bytes, opts.keepAliveOk ? 1 : 0);
      const status = res.responses[0]?.status ?? (res.response.length ? `unparsed: ${JSON.stringify(res.text.slice(0, 80))}` : 'none');
      summary.push(`# ${String(status).padEnd(5)} ${res.closed ? 'closed' : 'open  '} ${name}`);
      assert.equal(originBytes, 0, `${originBytes} bytes reached the origin (${reqs} requests); gateway answered ${status}`);
      if (res.response.length === 0) {
        assert.ok(res.closed, 'no response and the connection was left open');
      } else {
        assert.ok(allowed.includes(status), `status ${status}, expected one of ${allowed.join('/')}:\n${res.text.slice(0, 300)}`);
        if (!opts.keepAliveOk) {
          assert.ok(res.closed && !res.timedOut, `connection not closed after a ${status} for a malformed request`);
        }
      }
    });
  }

  for (const [name, bytes] of GOOD) {
    it(`control reaches the origin: ${name}`, async () => {
      const { res, bytes: originBytes, reqs } = await send(bytes, 1);
      assert.equal(res.responses[0]?.status, 200, res.text.slice(0, 300));
      assert.equal(reqs, 1, 'exactly one request reached the origin');
      assert.ok(originBytes > 0);
      const req = mock.requests[mock.requests.length - 1];
      if (req.method === 'POST') assert.equal(req.bodyText, JSON_BODY);
    });
  }

  it('control: two pipelined well-formed requests both reach the origin, in order', async () => {
    const one = `${CHAT}${HOST}${CT}Content-Length: ${J5}\r\nX-Request-Id: p1\r\n\r\n${JSON_BODY}`;
    const two = `${MODELS}${HOST}X-Request-Id: p2\r\n\r\n`;
    const n = mock.requests.length;
    const res = await rawRequest(gw.port, Buffer.from(one + two, 'latin1'), { untilResponses: 2, timeoutMs: 2500 });
    assert.deepEqual(res.responses.map((r) => r.status), [200, 200]);
    assert.deepEqual(mock.requests.slice(n).map((r) => r.headers['x-request-id']), ['p1', 'p2']);
  });

  it('an unsupported coding with valid chunked framing: if the connection stays open, the body was consumed', async () => {
    const bad = `${CHAT}${HOST}Transfer-Encoding: deflate, chunked\r\n\r\n5\r\nWorld\r\n0\r\n\r\n`;
    const next = `${MODELS}${HOST}X-Request-Id: after-deflate\r\n\r\n`;
    const n = mock.requests.length;
    const res = await rawRequest(gw.port, Buffer.from(bad + next, 'latin1'), { untilResponses: 2, timeoutMs: 2500 });
    assert.ok([400, 501].includes(res.responses[0]?.status), res.text.slice(0, 200));
    if (!res.closed) {
      assert.equal(res.responses[1]?.status, 200, 'the next request on the connection is served');
      assert.equal(mock.requests.length - n, 1);
      assert.equal(mock.requests[mock.requests.length - 1].headers['x-request-id'], 'after-deflate');
    } else {
      assert.equal(res.responses.length, 1);
      assert.equal(mock.requests.length, n);
    }
  });

  it('a valid request followed by a malformed one: only the first reaches the origin', async () => {
    const one = `${MODELS}${HOST}X-Request-Id: ok-1\r\n\r\n`;
    const two = `${CHAT}${HOST}Content-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nG`;
    const n = mock.requests.length;
    const res = await rawRequest(gw.port, Buffer.from(one + two, 'latin1'), { timeoutMs: 2500 });
    assert.equal(res.responses[0]?.status, 200);
    assert.ok([400, undefined].includes(res.responses[1]?.status), `second: ${res.responses[1]?.status}`);
    assert.ok(res.closed);
    await sleep(60);
    assert.equal(mock.requests.length - n, 1);
    assert.equal(mock.requests[mock.requests.length - 1].headers['x-request-id'], 'ok-1');
  });
});
