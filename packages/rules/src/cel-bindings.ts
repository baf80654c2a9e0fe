/**
 * How conditions and filters see their inputs: as library bindings (bigint ints, a Map for
 * `event`) for @bufbuild/cel, and as readers for the compiled closures (see
 * `cel-closure.ts`). Both read the same inputs the same way; a reader bails wherever its
 * value would leave the closures' domain, so the library decides those cases.
 */
import { planCel, type CelVarType, type ParsedCel } from './cel';
import { BAIL, type CelClosure, type ClosureScope } from './cel-closure';
import type { EventFieldType, EventView } from './event-fields';
import type { FeatureValue, FeatureValues } from './types';

/** Converts a feature value to the CEL binding for its declared type. */
export function featureBinding(v: FeatureValue | undefined, type: CelVarType): unknown {
  if (type === 'int') return typeof v === 'number' ? BigInt(Math.trunc(v)) : 0n;
  if (v === undefined || v === null) return null;
  if (typeof v === 'number') return Number.isInteger(v) ? BigInt(v) : v;
  return v;
}

/** Library bindings for a condition: each referenced feature by its declared type. */
export function featureBindings(
  features: FeatureValues,
  referenced: readonly string[],
  varTypes: Readonly<Record<string, CelVarType>>,
): Record<string, unknown> {
  const bindings: Record<string, unknown> = {};
  for (const f of referenced) bindings[f] = featureBinding(features[f], varTypes[f] ?? 'dyn');
  return bindings;
}

/** Builds the CEL `event` map for a filter: ints as bigint, lists copied, unknown fields dropped. */
export function eventBinding(view: EventView, fields: Readonly<Record<string, EventFieldType>>): Map<string, unknown> {
  const m = new Map<string, unknown>();
  for (const [name, type] of Object.entries(fields)) {
    const v = view[name];
    if (v === undefined) continue;
    if ((type === 'int' || type === 'int?') && typeof v === 'number') m.set(name, BigInt(Math.trunc(v)));
    else if (Array.isArray(v)) m.set(name, [...(v as readonly string[])]);
    else m.set(name, v);
  }
  return m;
}

/**
 * Whether {@link featureBindings} can bind these features: it throws (BigInt of NaN or an
 * infinity) for a non-finite value of an int feature, whether or not the expression reads
 * it. The closure path checks this first and leaves such inputs to the library path, so
 * they throw exactly as before.
 */
export function featuresBindable(varTypes: Readonly<Record<string, CelVarType>>): (features: FeatureValues) => boolean {
  const ints = Object.keys(varTypes).filter((f) => varTypes[f] === 'int');
  return (features) => {
    for (const f of ints) {
      const v = features[f];
      if (typeof v === 'number' && !Number.isFinite(v)) return false;
    }
    return true;
  };
}

/** Like {@link featuresBindable}, for {@link eventBinding}: a non-finite number in an int field throws there. */
export function viewBindable(fields: Readonly<Record<string, EventFieldType>>): (view: EventView) => boolean {
  const ints = Object.keys(fields).filter((f) => fields[f] === 'int' || fields[f] === 'int?');
  return (view) => {
    for (const f of ints) {
      const v = view[f];
      if (typeof v === 'number' && !Number.isFinite(v)) return false;
    }
    return true;
  };
}

/** A truncated number as a closure int; BAIL when the binding would not be a safe int (or would throw: NaN). */
function truncInt(v: number): unknown {
  const t = Math.trunc(v);
  return Number.isSafeInteger(t) ? t : BAIL;
}

/** Reader mirroring {@link featureBinding}. */
function featureReader(name: string, type: CelVarType): CelClosure<FeatureValues> {
  if (type === 'int') {
    return (features) => {
      const v = features[name];
      return typeof v === 'number' ? truncInt(v) : 0;
    };
  }
  return (features) => {
    const v = features[name];
    if (v === undefined || v === null) return null;
    if (typeof v === 'number') return Number.isSafeInteger(v) ? v : BAIL; // doubles and large ints: the library
    return typeof v === 'string' || typeof v === 'boolean' ? v : BAIL;
  };
}

/** Reader mirroring {@link eventBinding} for one field: a missing key bails (the library's "no such key"). */
function fieldReader(name: string, type: EventFieldType): CelClosure<EventView> {
  const int = type === 'int' || type === 'int?';
  return (view) => {
    const v = view[name];
    if (v === undefined) return BAIL;
    if (typeof v === 'number') return int ? truncInt(v) : BAIL; // a number in a non-int field is a CEL double
    if (v === null || typeof v === 'string' || typeof v === 'boolean' || Array.isArray(v)) return v;
    return BAIL;
  };
}

/** Closure scope of a label condition: feature variables; anything else through the library. */
export function conditionScope(
  source: string,
  parsed: ParsedCel,
  varTypes: Readonly<Record<string, CelVarType>>,
): ClosureScope<FeatureValues> {
  return {
    variable: (name) => {
      const type = varTypes[name];
      return type === undefined ? undefined : featureReader(name, type);
    },
    field: () => undefined,
    fallback: (node) => {
      const program = planCel(source, { ...parsed, expr: node }, varTypes);
      const referenced = Object.keys(varTypes);
      return (features) => program.run(featureBindings(features, referenced, varTypes));
    },
  };
}

/** Closure scope of a feature filter: `event.<field>` of the declared fields; anything else through the library. */
export function filterScope(
  source: string,
  parsed: ParsedCel,
  fields: Readonly<Record<string, EventFieldType>>,
): ClosureScope<EventView> {
  return {
    variable: () => undefined,
    field: (variable, name) => {
      const type = Object.hasOwn(fields, name) ? fields[name] : undefined;
      return variable === 'event' && type !== undefined ? fieldReader(name, type) : undefined;
    },
    fallback: (node) => {
      const program = planCel(source, { ...parsed, expr: node }, { event: 'event' });
      return (view) => program.run({ event: eventBinding(view, fields) });
    },
  };
}
