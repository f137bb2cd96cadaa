// Shared mocha setup: keep test output quiet unless asked.
process.env.BATCHIEPATCHIE_LOG_LEVEL ??= process.env.TEST_LOG_LEVEL ?? 'silent';
