import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import { Type } from 'avsc';
import { avroTypeOptions } from '@labelstream/contracts';
import { RegistryUnavailableError, UndecodableError, UnknownSchemaError, AdapterError } from './errors';
import { avroDecodeError, checkAvroBounds, DEFAULT_AVRO_DECODE_LIMITS, type AvroDecodeLimits } from './avro-bounds';

export interface RegistryConnection {
  url: string;
  auth?: { username: string; password: string };
  /** Bounds every decoded body is checked against before avsc allocates (see avro-bounds.ts). */
  decodeLimits?: Partial<AvroDecodeLimits>;
}

const MAGIC = 0;
const HEADER = 5;
const JSON_CT = 'application/vnd.schemaregistry.v1+json';

/** True when the bytes start with the Confluent wire-format header (magic 0 + schema id). */
export function isConfluentFramed(value: Buffer | null | undefined): value is Buffer {
  return !!value && value.length >= HEADER && value[0] === MAGIC;
}

/** Reads the schema id of a Confluent-framed message. */
export function schemaIdOf(value: Buffer): number {
  return value.readInt32BE(1);
}

/**
 * The schema registry as Labelstream uses it: subjects registered once at start-up with an
 * explicit compatibility level, ids cached, writer schemas fetched once per id and resolved
 * against our reader schema (Avro schema evolution), never a registry call per message.
 */
export class Registry {
  private readonly client: SchemaRegistry;
  private readonly writers = new Map<number, Promise<Type>>();
  /** Writer types already fetched, for decoding without waiting on a promise. */
  private readonly loaded = new Map<number, Type>();
  private readonly resolvers = new Map<string, ReturnType<Type['createResolver']>>();
  private readonly limits: AvroDecodeLimits;

  constructor(private readonly conn: RegistryConnection) {
    this.limits = { ...DEFAULT_AVRO_DECODE_LIMITS, ...conn.decodeLimits };
    // The registry client serves the schema-reference aware parts of the Confluent API; writer
    // schemas are parsed here with the same avsc options as our own types (plain unions,
    // epoch-millis numbers) so resolution between them is exact.
    this.client = new SchemaRegistry(
      { host: conn.url, ...(conn.auth ? { auth: conn.auth } : {}), clientId: 'labelstream' },
      { [SchemaType.AVRO]: avroTypeOptions() as object },
    );
  }

  private async http(method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
    const headers: Record<string, string> = { accept: JSON_CT, 'content-type': JSON_CT };
    if (this.conn.auth) headers.authorization = 'Basic ' + Buffer.from(`${this.conn.auth.username}:${this.conn.auth.password}`).toString('base64');
    let res: Response;
    try {
      res = await fetch(this.conn.url.replace(/\/$/, '') + path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(10_000),
      });
    } catch (cause) {
      throw new RegistryUnavailableError(this.conn.url, { cause });
    }
    if (res.status >= 500) throw new RegistryUnavailableError(this.conn.url, { cause: new Error(`HTTP ${res.status}`) });
    const text = await res.text();
    let json: unknown = text;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      /* keep text */
    }
    return { status: res.status, json };
  }

  /** Sets a subject's compatibility level (BACKWARD, FULL, …). */
  async setCompatibility(subject: string, compatibility: string): Promise<void> {
    const put = () => this.http('PUT', `/config/${encodeURIComponent(subject)}`, { compatibility });
    let r = await put();
    // Apicurio creates the subject's rule on the first PUT; two instances starting at once
    // (three evaluators on a fresh subject) race, and the loser gets 409 "rule already
    // exists". The rule exists now, so a second PUT updates it.
    if (r.status === 409) r = await put();
    if (r.status !== 200) {
      throw new AdapterError('REGISTRY_CONFIG_FAILED', `setting ${compatibility} on ${subject} failed: HTTP ${r.status} ${JSON.stringify(r.json)}`, false, { subject });
    }
  }

  /**
   * Registers `schema` under `subject` with the given compatibility and returns its id. A
   * schema the registry already has returns its existing id; an incompatible one throws
   * `SCHEMA_INCOMPATIBLE` (HTTP 409) naming the subject.
   */
  async register(subject: string, schema: object, compatibility = 'BACKWARD'): Promise<number> {
    // Set the level explicitly first: registries differ in their global default (Confluent
    // BACKWARD, Apicurio none), and the client refuses to register under a level that
    // differs from the one it is asked for.
    await this.setCompatibility(subject, compatibility);
    try {
      const { id } = await this.client.register(
        { type: SchemaType.AVRO, schema: JSON.stringify(schema) },
        { subject, compatibility: compatibility as never },
      );
      return id;
    } catch (cause) {
      const status = (cause as { status?: number }).status;
      if (status === 409) {
        throw new AdapterError('SCHEMA_INCOMPATIBLE', `schema for ${subject} is incompatible with its ${compatibility} history`, false, { subject }, { cause });
      }
      if (status === undefined || status >= 500) throw new RegistryUnavailableError(this.conn.url, { cause });
      throw new AdapterError('REGISTER_FAILED', `registering ${subject} failed: HTTP ${status} ${(cause as Error).message}`, false, { subject }, { cause });
    }
  }

  /**
   * The writer schema of `id`, fetched once (concurrent misses share one request). An id the
   * registry does not know, or a schema we cannot parse, is the message's fault (dead-letter);
   * only an unreachable registry is retried.
   */
  writerType(id: number): Promise<Type> {
    let p = this.writers.get(id);
    if (!p) {
      p = (async () => {
        const r = await this.http('GET', `/schemas/ids/${id}`);
        if (r.status === 404 || r.status === 422) throw new UnknownSchemaError(id);
        const text = (r.json as { schema?: unknown; schemaType?: unknown } | null)?.schema;
        const schemaType = (r.json as { schemaType?: unknown } | null)?.schemaType;
        if (r.status !== 200 || typeof text !== 'string') {
          throw new RegistryUnavailableError(this.conn.url, { cause: new Error(`HTTP ${r.status} for schema id ${id}`) });
        }
        if (schemaType !== undefined && schemaType !== 'AVRO') {
          throw new UndecodableError(`schema id ${id} is ${String(schemaType)}, not Avro`, { schemaId: id });
        }
        try {
          const type = Type.forSchema(JSON.parse(text) as never, avroTypeOptions() as never);
          this.loaded.set(id, type);
          return type;
        } catch (cause) {
          throw new UndecodableError(`schema id ${id} cannot be parsed as Avro: ${(cause as Error).message}`, { schemaId: id }, { cause });
        }
      })();
      this.writers.set(id, p);
      // Only outages are worth asking again about; a bad or unknown id stays bad.
      p.catch((err: unknown) => {
        if (err instanceof RegistryUnavailableError) this.writers.delete(id);
      });
    }
    return p;
  }

  /**
   * Encoder bound to a registered schema id; encoding is synchronous. The frame is written
   * into a scratch buffer kept by the encoder and copied out once, into a buffer of the
   * exact size (small ones come from Node's pool): one allocation per value.
   */
  encoder<T>(id: number, type: Type): (value: T) => Buffer {
    let scratch = Buffer.alloc(4096);
    scratch.writeUInt8(MAGIC, 0);
    scratch.writeInt32BE(id, 1);
    return (value: T) => {
      let end = type.encode(value, scratch, HEADER);
      if (end < 0) {
        // Too small: avsc answers with minus the bytes missing.
        const grown = Buffer.alloc(Math.max(scratch.length * 2, scratch.length - end));
        scratch.copy(grown, 0, 0, HEADER);
        scratch = grown;
        end = type.encode(value, scratch, HEADER);
      }
      const out = Buffer.allocUnsafe(end);
      scratch.copy(out, 0, 0, end);
      return out;
    };
  }

  /**
   * Decodes a Confluent-framed message into the shape of `reader` (resolving from the
   * writer schema the message names). Bad bytes and unknown ids throw non-retriable errors
   * (dead-letter); an unreachable registry throws a retriable one (retry).
   */
  async decode<T>(value: Buffer | null | undefined, reader: Type): Promise<T> {
    if (!isConfluentFramed(value)) throw new UndecodableError('not a Confluent-framed Avro message');
    const id = schemaIdOf(value);
    return this.read<T>(value, id, await this.writerType(id), reader);
  }

  /**
   * As {@link decode}, synchronously, when the message's writer schema was already fetched;
   * `undefined` when it was not (then `await decode()`). For hot loops: no promise per
   * message.
   */
  decodeIfLoaded<T>(value: Buffer | null | undefined, reader: Type): T | undefined {
    if (!isConfluentFramed(value)) throw new UndecodableError('not a Confluent-framed Avro message');
    const id = schemaIdOf(value);
    const writer = this.loaded.get(id);
    return writer ? this.read<T>(value, id, writer, reader) : undefined;
  }

  private read<T>(value: Buffer, id: number, writer: Type, reader: Type): T {
    const key = `${id}:${reader.name ?? reader.typeName}`;
    let resolver = this.resolvers.get(key);
    if (!resolver) {
      try {
        resolver = reader.createResolver(writer);
      } catch (cause) {
        throw new UndecodableError(`schema id ${id} cannot be read as ${reader.name}`, { schemaId: id }, { cause });
      }
      this.resolvers.set(key, resolver);
    }
    try {
      checkAvroBounds(writer, value.subarray(HEADER), this.limits);
      return reader.fromBuffer(value.subarray(HEADER), resolver, true) as T;
    } catch (cause) {
      throw avroDecodeError(id, cause);
    }
  }

  /** Decodes with the writer schema itself (for raw input whose schema we don't own). */
  async decodeWithWriter(value: Buffer | null | undefined): Promise<{ schemaId: number; type: Type; value: unknown }> {
    if (!isConfluentFramed(value)) throw new UndecodableError('not a Confluent-framed Avro message');
    const id = schemaIdOf(value);
    const type = await this.writerType(id);
    try {
      checkAvroBounds(type, value.subarray(HEADER), this.limits);
      return { schemaId: id, type, value: type.fromBuffer(value.subarray(HEADER)) };
    } catch (cause) {
      throw avroDecodeError(id, cause);
    }
  }

  /** A cheap reachability check for readiness and start-up. */
  async ping(): Promise<void> {
    const r = await this.http('GET', '/subjects');
    if (r.status !== 200) throw new RegistryUnavailableError(this.conn.url, { cause: new Error(`HTTP ${r.status}`) });
  }
}

export { SchemaType };
