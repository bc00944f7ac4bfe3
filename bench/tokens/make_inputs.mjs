// Writes the benchmark inputs: an 8 MiB mixed corpus (tests/integration/tokens/corpus.mjs, fixed seed) and a
// ~4 KB OpenAI chat-completions request (system prompt, a few turns, one tool). Usage: node make_inputs.mjs DIR
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeCorpus } from '../../tests/integration/tokens/corpus.mjs';

const dir = process.argv[2];
writeFileSync(join(dir, 'corpus.txt'), makeCorpus(8 * 1024 * 1024, { seed: 7 }));
const filler = makeCorpus(3000, { seed: 9 }).toString('utf8').replace(/\uFFFD/g, '');
const request = {
  model: 'gpt-4o',
  messages: [
    { role: 'system', content: 'You are a careful assistant for an operations team. Answer briefly and cite the runbook.' },
    { role: 'user', content: filler.slice(0, 1400) },
    { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'search_runbook', arguments: '{"query":"gateway 429 spikes"}' } }] },
    { role: 'tool', tool_call_id: 'call_1', content: filler.slice(1400, 2600) },
    { role: 'user', name: 'oncall', content: 'Summarize the likely cause and the first three steps.' },
  ],
  tools: [{ type: 'function', function: { name: 'search_runbook', description: 'Search the team runbook.',
            parameters: { type: 'object', properties: { query: { type: 'string', description: 'Search terms.' } }, required: ['query'] } } }],
  max_tokens: 512,
};
let body = JSON.stringify(request);
while (Buffer.byteLength(body) > 4096) { request.messages[3].content = request.messages[3].content.slice(0, -50); body = JSON.stringify(request); }
writeFileSync(join(dir, 'chat_request.json'), body);
