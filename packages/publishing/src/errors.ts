/**
 * Errors thrown by @labelstream/publishing. The mapping and signing functions never
 * throw on data; these errors mean a configuration or a caller is wrong, so none is
 * retriable.
 */
export abstract class PublishingError extends Error {
  abstract readonly code: string;
  readonly retriable = false;
}

/** One problem found in a webhook destinations file. */
export interface WebhookConfigIssue {
  /** Where in the file, e.g. `[1].url`. */
  readonly path: string;
  readonly message: string;
}

/** The webhook destinations file is not valid; lists every issue (never a secret value). */
export class WebhookConfigError extends PublishingError {
  readonly code = 'WEBHOOK_CONFIG_INVALID';
  constructor(
    readonly issues: readonly WebhookConfigIssue[],
    readonly context: { readonly source: string },
  ) {
    super(`invalid webhook destinations in ${context.source}:\n${issues.map((i) => `  - ${i.path || '(root)'}: ${i.message}`).join('\n')}`);
    this.name = 'WebhookConfigError';
  }
}
