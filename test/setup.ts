import 'aws-sdk-client-mock-vitest/extend';

// Powertools writes JSON to stdout; tests that care about logs and metrics spy on them instead.
process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
process.env.POWERTOOLS_METRICS_NAMESPACE ??= 'PneumoTest';
process.env.POWERTOOLS_SERVICE_NAME ??= 'classify';
