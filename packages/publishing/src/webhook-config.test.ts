import { WebhookConfigError } from './errors';
import { compileWebhookDestinations, parseWebhookDestinations } from './webhook-config';

describe('webhook destinations file', () => {
  it('fills defaults and derives the group and dead-letter topic', () => {
    const yaml = `
- name: braze
  url: https://hooks.example.com/labels
  secretEnv: BRAZE_WEBHOOK_SECRET
- name: crm-2
  url: http://127.0.0.1:9000/in
  secretEnv: CRM2_SECRET
  labels: [vip, "lifecycle-*"]
  maxAttempts: 3
  concurrency: 1
  timeoutMs: 1000
  initialBackoffMs: 10
  maxBackoffMs: 100
  startFrom: latest
`;
    const [a, b] = parseWebhookDestinations(yaml, 'webhooks.yaml');
    expect(a).toEqual({
      name: 'braze',
      url: 'https://hooks.example.com/labels',
      secretEnv: 'BRAZE_WEBHOOK_SECRET',
      maxAttempts: 8,
      concurrency: 4,
      timeoutMs: 5000,
      initialBackoffMs: 500,
      maxBackoffMs: 60_000,
      startFrom: 'earliest',
      deadLetterTopic: 'labels.webhook-dlq.braze.v1',
      groupId: 'labelstream-webhook-braze',
    });
    expect(b).toMatchObject({ name: 'crm-2', labels: ['vip', 'lifecycle-*'], maxAttempts: 3, concurrency: 1, startFrom: 'latest' });
  });

  it('reads JSON and the { destinations } form; an empty file means none', () => {
    const json = JSON.stringify({ destinations: [{ name: 'x', url: 'https://x.example', secretEnv: 'X_SECRET', deadLetterTopic: 'my.dlq' }] });
    expect(parseWebhookDestinations(json)[0]).toMatchObject({ name: 'x', deadLetterTopic: 'my.dlq' });
    expect(parseWebhookDestinations('')).toEqual([]);
    expect(compileWebhookDestinations([])).toEqual([]);
  });

  it('names every problem, including unknown keys and duplicates', () => {
    const bad = [
      { name: 'Bad Name', url: 'ftp://x', secretEnv: 'lower', maxAttempts: 0, colour: 'red' },
      { name: 'ok', url: 'https://x.example', secretEnv: 'OK', initialBackoffMs: 1000, maxBackoffMs: 10 },
    ];
    let err: WebhookConfigError | undefined;
    try {
      compileWebhookDestinations(bad, 'hooks.yaml');
    } catch (e) {
      err = e as WebhookConfigError;
    }
    expect(err).toBeInstanceOf(WebhookConfigError);
    expect(err!.code).toBe('WEBHOOK_CONFIG_INVALID');
    expect(err!.retriable).toBe(false);
    const paths = err!.issues.map((i) => i.path);
    expect(paths).toEqual(expect.arrayContaining(['[0].name', '[0].url', '[0].secretEnv', '[0].maxAttempts', '[1].maxBackoffMs']));
    expect(err!.message).toContain('hooks.yaml');

    const dup = [
      { name: 'a', url: 'https://x.example', secretEnv: 'A' },
      { name: 'a', url: 'https://y.example', secretEnv: 'B' },
    ];
    expect(() => compileWebhookDestinations(dup)).toThrow(/duplicate destination name "a"/);
    expect(() => parseWebhookDestinations('[unclosed')).toThrow(WebhookConfigError);
  });
});
