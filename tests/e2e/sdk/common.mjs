// Shared setup for the SDK e2e suites: each suite runs twice, once with the SDK pointed straight at the mock
// provider (validates the mock against the real SDKs) and once through the tollway gateway.
import { startMock, startGateway, testConfig } from '../../lib/harness.mjs';

export const TARGETS = ['mock', 'gateway'];

/** Starts the mock (and for target 'gateway' the gateway in front of it); returns {mock, gw, base, close}. */
export async function startTarget(target) {
  const mock = await startMock();
  let gw = null;
  try {
    if (target === 'gateway') {
      // The gateway answers /v1/models from its config: name the models the suites list.
      const config = testConfig({ openaiUrl: mock.url });
      config.models = [...['gpt-4o-mini', 'gpt-4o', 'text-embedding-3-small'].map((m) => ({ match: m, provider: 'openai' })),
        ...config.models];
      gw = await startGateway({ config });
    }
  } catch (e) {
    await mock.close();
    throw e;
  }
  return {
    mock, gw, target,
    base: gw ? gw.url : mock.url,
    async close() {
      if (gw) await gw.stop();
      await mock.close();
    },
  };
}
