// One JSON record per line, as every onedoor process logs (services/common/logs.py), so the
// provider's log reads with the same jq lines and the whole-run scan holds it to the same shape.
// Imported before oidc-provider, which warns through the console as it loads.
import { format } from 'node:util';

const LEVELS = { debug: 'DEBUG', info: 'INFO', log: 'INFO', warn: 'WARNING', error: 'ERROR' };

for (const [method, level] of Object.entries(LEVELS)) {
  console[method] = (...args) => {
    const record = {
      time: new Date().toISOString(),
      level,
      logger: 'identity-provider',
      message: format(...args),
      service: 'identity-provider',
      trace_id: null,
      span_id: null,
    };
    process.stdout.write(`${JSON.stringify(record)}\n`);
  };
}
