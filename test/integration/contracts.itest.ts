/**
 * The contracts against the real registry: every schema registers under TopicNameStrategy
 * with BACKWARD compatibility; a compatible evolution (an optional field with a default) is
 * accepted and an incompatible one is rejected.
 */
import { COMPATIBILITY, customerEventSchema, customerLabelsSchema, labelDecisionSchema, labelEventSchema, subjectFor } from '@labelstream/contracts';
import { AdapterError, Registry } from '@labelstream/kafka';
import { connectStack, uniqueName } from '@labelstream/testkit';

type Schema = { fields: Array<Record<string, unknown>> } & Record<string, unknown>;
const clone = (s: unknown): Schema => JSON.parse(JSON.stringify(s)) as Schema;

describe('contracts in the registry', () => {
  let registry: Registry;
  let url: string;
  beforeAll(async () => {
    url = (await connectStack()).schemaRegistryUrl;
    registry = new Registry({ url });
  });

  it.each([
    ['customer-event', customerEventSchema],
    ['label-decision', labelDecisionSchema],
    ['label-event', labelEventSchema],
    ['customer-labels', customerLabelsSchema],
  ])('%s: compatible evolution accepted, incompatible rejected', async (_name, schema) => {
    const subject = subjectFor(uniqueName('it-contract'));
    const v1 = await registry.register(subject, schema as object, COMPATIBILITY);

    const compatible = clone(schema);
    compatible.fields.push({ name: 'addedLater', type: ['null', 'string'], default: null, doc: 'optional, with a default' });
    const v2 = await registry.register(subject, compatible, COMPATIBILITY);
    expect(v2).not.toBe(v1);

    const incompatible = clone(compatible);
    incompatible.fields.push({ name: 'requiredWithoutDefault', type: 'string' });
    const err = await registry.register(subject, incompatible, COMPATIBILITY).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AdapterError);
    expect((err as AdapterError).code).toBe('SCHEMA_INCOMPATIBLE');

    const res = await fetch(`${url}/config/${encodeURIComponent(subject)}`);
    const body = (await res.json()) as { compatibilityLevel?: string; compatibility?: string };
    expect(body.compatibilityLevel ?? body.compatibility).toBe('BACKWARD');
  });

  it('the rules-change evolution (cause RULES_CHANGED) is accepted over the schemas before it', async () => {
    // The label-decision and label-event schemas as they were before `RULES_CHANGED` and `LabelEvent.cause`.
    const decisionBefore = clone(labelDecisionSchema);
    const cause = decisionBefore.fields.find((f) => f.name === 'cause') as { type: { fields: Array<{ name: string; type: { symbols?: string[] } }> } };
    cause.type.fields.find((f) => f.name === 'kind')!.type.symbols = ['EVENT', 'TIMER'];
    const eventBefore = clone(labelEventSchema);
    eventBefore.fields = eventBefore.fields.filter((f) => f.name !== 'cause');
    for (const [before, now] of [[decisionBefore, labelDecisionSchema], [eventBefore, labelEventSchema]] as const) {
      const subject = subjectFor(uniqueName('it-contract-rules'));
      const v1 = await registry.register(subject, before, COMPATIBILITY);
      expect(await registry.register(subject, now as object, COMPATIBILITY)).not.toBe(v1);
    }
  });
});
