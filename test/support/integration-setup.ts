// Integration tests wait on real servers: give each test two minutes (per-project
// `testTimeout` is not honoured by jest's multi-project mode, so it is set here).
jest.setTimeout(120_000);
