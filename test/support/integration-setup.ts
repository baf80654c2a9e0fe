import { registerCodecs } from '@labelstream/kafka';
// Integration tests wait on real servers: give each test two minutes (per-project
// `testTimeout` is not honoured by jest's multi-project mode, so it is set here).
jest.setTimeout(120_000);

// The services produce lz4 by default (KAFKA_COMPRESSION), and kafkajs decodes only gzip by
// itself: every kafkajs client of the test process (testkit's testKafka included) must
// have the codecs that every Labelstream process registers.
registerCodecs();
