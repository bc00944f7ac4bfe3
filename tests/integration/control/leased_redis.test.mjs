// Leased budgets end to end with the control plane's aggregates in Redis (--lease-store redis://…), a real
// redis-server: leased_scenario.mjs.
import { leasedFleetScenario } from './leased_scenario.mjs';

leasedFleetScenario('redis');
