// Leased budgets end to end with the control plane's aggregates in SQLite (STATE_DIR/leases.db): leased_scenario.mjs.
import { leasedFleetScenario } from './leased_scenario.mjs';

leasedFleetScenario('sqlite');
