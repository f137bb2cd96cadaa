// Shared mocha setup: keep test output quiet unless asked.
process.env.BATCHIEPATCHIE_LOG_LEVEL ??= process.env.TEST_LOG_LEVEL ?? 'silent';
// Processes the tests start through bin/batchiepatchie run the sources under test, not a build of them.
process.env.BATCHIEPATCHIE_FROM_SOURCE = '1';
