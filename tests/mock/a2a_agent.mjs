// An A2A agent built with the official SDK (@a2a-js/sdk, A2A 1.0, express): its card at
// /.well-known/agent-card.json names the given skills and a JSON-RPC interface at `url` (the address its callers
// use, e.g. http://agent-b/ through a sidecar), served at /. Every message becomes a task that streams a working
// status, one artifact with the skill and text it was given, and a completed status. Each message is recorded with
// the skill in its metadata, the traceparent its HTTP request carried and the caller header the sidecar set.
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import express from 'express';
import { Role, TaskState } from '@a2a-js/sdk';
import { AgentEvent, DefaultRequestHandler, InMemoryTaskStore } from '@a2a-js/sdk/server';
import { agentCardHandler, jsonRpcHandler, UserBuilder } from '@a2a-js/sdk/server/express';

const text = (value) => ({ content: { $case: 'text', value }, metadata: undefined, filename: '', mediaType: 'text/plain' });

export async function startA2aAgent({ name, url, skills }) {
  const messages = [];
  const requests = [];  // every HTTP request: {method, url, traceparent, caller}
  const card = {
    name,
    description: `${name}, an A2A agent for tests`,
    supportedInterfaces: [{ url, protocolBinding: 'JSONRPC', tenant: '', protocolVersion: '1.0' }],
    provider: undefined,
    version: '1.0.0',
    capabilities: { streaming: true, pushNotifications: false, extensions: [] },
    securitySchemes: {},
    securityRequirements: [],
    defaultInputModes: ['text/plain'],
    defaultOutputModes: ['text/plain'],
    skills: skills.map((id) => ({ id, name: id, description: `${name}'s ${id}`, tags: [id], examples: [], inputModes: [],
      outputModes: [], securityRequirements: [] })),
    signatures: [],
  };
  let lastHttp = {};
  const executor = {
    async execute(ctx, bus) {
      const message = ctx.request.message;
      const skill = message.metadata?.skillId ?? '';
      const said = message.parts.map((p) => p.content?.$case === 'text' ? p.content.value : '').join('');
      messages.push({ skill, text: said, taskId: ctx.taskId, contextId: ctx.contextId, ...lastHttp });
      const status = (state, reply) => ({ state, message: reply, timestamp: new Date().toISOString() });
      bus.publish(AgentEvent.task({ id: ctx.taskId, contextId: ctx.contextId, status: status(TaskState.TASK_STATE_SUBMITTED),
        artifacts: [], history: [message], metadata: undefined }));
      bus.publish(AgentEvent.statusUpdate({ taskId: ctx.taskId, contextId: ctx.contextId,
        status: status(TaskState.TASK_STATE_WORKING), metadata: undefined }));
      await new Promise((r) => setTimeout(r, 50));
      bus.publish(AgentEvent.artifactUpdate({ taskId: ctx.taskId, contextId: ctx.contextId,
        artifact: { artifactId: randomUUID(), name: 'result', description: '', parts: [text(`${name}/${skill}: ${said}`)],
          metadata: undefined, extensions: [] }, append: false, lastChunk: true, metadata: undefined }));
      bus.publish(AgentEvent.statusUpdate({ taskId: ctx.taskId, contextId: ctx.contextId,
        status: status(TaskState.TASK_STATE_COMPLETED), metadata: undefined }));
      bus.finished();
    },
    async cancelTask() {},
  };
  const handler = new DefaultRequestHandler(card, new InMemoryTaskStore(), executor);
  const app = express();
  app.use((req, res, next) => {
    lastHttp = { traceparent: req.headers.traceparent, caller: req.headers['x-tollway-caller-spiffe-id'] };
    requests.push({ method: req.method, url: req.url, ...lastHttp });
    next();
  });
  app.use('/.well-known/agent-card.json', agentCardHandler({ agentCardProvider: handler }));
  app.use('/', jsonRpcHandler({ requestHandler: handler, userBuilder: UserBuilder.noAuthentication }));
  const server = http.createServer(app);
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const sockets = new Set();
  server.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  return {
    port: server.address().port,
    messages,
    requests,
    close: () => new Promise((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
}
