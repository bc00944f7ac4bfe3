// An MCP server built with the official TypeScript SDK (@modelcontextprotocol/sdk), streamable HTTP at /mcp with
// sessions, for tests and benchmarks: each tool answers with its name and arguments, and every call is recorded
// with the params._meta its handler saw (the trace context a proxy carried) and the caller header the sidecar set.
// Options: name, tools (names), json (answer with application/json instead of SSE).
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { z } from 'zod';

export async function startMcpServer({ name, tools, json = false, prompts = [] }) {
  const calls = [];
  const transports = new Map();  // session id -> transport
  const requests = [];           // every HTTP request: {method, url, body}
  const headers = [];            // every HTTP request's headers

  const newServer = () => {
    const server = new McpServer({ name, version: '1.0.0' });
    for (const tool of tools) {
      server.registerTool(tool, { description: `${name}'s ${tool}`, inputSchema: { text: z.string().optional() } },
        async (args, extra) => {
          calls.push({ tool, args, meta: extra._meta ?? {}, caller: extra.requestInfo?.headers?.['x-tollway-caller-spiffe-id'] });
          return { content: [{ type: 'text', text: `${name}/${tool}: ${args.text ?? ''}` }] };
        });
    }
    for (const prompt of prompts) {
      server.registerPrompt(prompt, { description: `${name}'s ${prompt}` }, async () => ({
        messages: [{ role: 'user', content: { type: 'text', text: prompt } }],
      }));
    }
    return server;
  };

  const httpServer = http.createServer(async (req, res) => {
    let body = '';
    for await (const chunk of req) body += chunk;
    requests.push({ method: req.method, url: req.url, body });
    headers.push(req.headers);
    const parsed = body ? JSON.parse(body) : undefined;
    const sessionId = req.headers['mcp-session-id'];
    let transport = sessionId ? transports.get(sessionId) : undefined;
    if (!transport) {
      if (req.method !== 'POST' || !parsed || parsed.method !== 'initialize') {
        res.writeHead(400, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32000, message: 'no valid session' } }));
        return;
      }
      transport = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        enableJsonResponse: json,
        onsessioninitialized: (id) => transports.set(id, transport),
      });
      await newServer().connect(transport);
    }
    await transport.handleRequest(req, res, parsed);
  });
  await new Promise((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
  return {
    name, calls, requests, headers,
    port: httpServer.address().port,
    async close() {
      for (const t of transports.values()) await t.close().catch(() => {});
      httpServer.closeAllConnections?.();
      await new Promise((r) => httpServer.close(r));
    },
  };
}
