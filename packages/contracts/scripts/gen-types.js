#!/usr/bin/env node
// Generates packages/contracts/src/generated/<name>.ts from schemas/<name>.avsc.
//
// Each generated file holds the TypeScript types of one Avro schema (the shape avsc
// decodes to with avroTypeOptions(): unwrapped unions, no logical types, so longs and
// timestamp-millis are plain numbers) and the schema itself, embedded as a constant so
// that dist/ works wherever it is installed, with no schemas/ directory beside it.
//
// Usage: node scripts/gen-types.js            (writes the files)
//        node scripts/gen-types.js --check    (exits 1 if the committed files are stale)
// The unit test src/generated.test.ts calls generateAll() and compares in memory.
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const avro = require('avsc');

const SCHEMAS_DIR = path.resolve(__dirname, '../../../schemas');
const OUT_DIR = path.resolve(__dirname, '../src/generated');

/**
 * Must match avroTypeOptions() in src/avro-options.ts: the generated types describe what
 * these options decode to. A function because avsc writes its registry into the options.
 */
const parseOptions = () => ({ wrapUnions: 'never', logicalTypes: {} });

const PRIMITIVES = {
  null: 'null',
  boolean: 'boolean',
  int: 'number',
  long: 'number',
  float: 'number',
  double: 'number',
  bytes: 'Buffer',
  string: 'string',
};

function camel(kebab) {
  return kebab.replace(/-([a-z0-9])/g, (_, c) => c.toUpperCase());
}

function upperSnake(pascal) {
  return pascal.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
}

function shortName(name) {
  const i = name.lastIndexOf('.');
  return i < 0 ? name : name.slice(i + 1);
}

function docComment(doc, indent) {
  if (!doc) return '';
  const text = String(doc).replace(/\*\//g, '*\\/');
  return `${indent}/** ${text} */\n`;
}

/**
 * Walks one schema and collects its named types (records, enums) in definition order,
 * returning the TypeScript type expression for every schema node.
 */
function createEmitter(fileName) {
  const named = new Map(); // short name -> { kind, schema }
  const order = [];

  function define(schema) {
    const name = shortName(schema.name);
    if (named.has(name)) {
      throw new Error(`${fileName}: type name ${name} is defined twice (short names must be unique)`);
    }
    named.set(name, schema);
    order.push(name);
    return name;
  }

  function tsType(schema) {
    if (typeof schema === 'string') {
      if (Object.prototype.hasOwnProperty.call(PRIMITIVES, schema)) return PRIMITIVES[schema];
      const name = shortName(schema);
      if (!named.has(name)) throw new Error(`${fileName}: reference to undefined type ${schema}`);
      return name;
    }
    if (Array.isArray(schema)) {
      const branches = schema.map(tsType);
      // null last reads as "T | null", the usual TypeScript spelling of an optional value.
      const nonNull = branches.filter((b) => b !== 'null');
      return branches.length === nonNull.length ? nonNull.join(' | ') : [...nonNull, 'null'].join(' | ');
    }
    switch (schema.type) {
      case 'record':
      case 'error': {
        const name = define(schema);
        for (const field of schema.fields) field.tsType = tsType(field.type);
        return name;
      }
      case 'enum':
        return define(schema);
      case 'fixed':
        define(schema);
        return 'Buffer';
      case 'array': {
        const items = tsType(schema.items);
        return items.includes(' ') ? `Array<${items}>` : `${items}[]`;
      }
      case 'map':
        return `Record<string, ${tsType(schema.values)}>`;
      default:
        // Primitive written as an object, possibly with a logicalType we deliberately ignore.
        if (Object.prototype.hasOwnProperty.call(PRIMITIVES, schema.type)) return PRIMITIVES[schema.type];
        throw new Error(`${fileName}: unsupported schema node ${JSON.stringify(schema)}`);
    }
  }

  return { tsType, named, order };
}

function renderNamed(name, schema) {
  if (schema.type === 'record' || schema.type === 'error') {
    const fields = schema.fields
      .map((f) => `${docComment(f.doc, '  ')}  ${f.name}: ${f.tsType};\n`)
      .join('');
    return `${docComment(schema.doc, '')}export interface ${name} {\n${fields}}\n`;
  }
  if (schema.type === 'enum') {
    const union = schema.symbols.map((s) => `'${s}'`).join(' | ');
    const list = schema.symbols.map((s) => `'${s}'`).join(', ');
    const dflt = schema.default ? ` Unknown symbols resolve to '${schema.default}' (schema default).` : '';
    return (
      `${docComment(schema.doc || `Avro enum ${schema.name}.`, '')}export type ${name} = ${union};\n` +
      `/** Symbols of {@link ${name}}, in schema order.${dflt} */\n` +
      `export const ${upperSnake(name)}_SYMBOLS: readonly ${name}[] = [${list}];\n`
    );
  }
  // fixed: represented as Buffer inline, nothing to declare.
  return '';
}

/** Generates the TypeScript source for one .avsc file. Pure apart from avsc's validation. */
function generateOne(fileName, text) {
  const base = fileName.replace(/\.avsc$/, '');
  const json = JSON.parse(text);
  // Validates the schema and rejects ambiguous unions (which would decode wrapped and
  // not match the generated union types).
  avro.Type.forSchema(json, parseOptions());
  if (json.type !== 'record') throw new Error(`${fileName}: top-level schema must be a record`);

  const walk = JSON.parse(text); // a copy we may annotate
  const emitter = createEmitter(fileName);
  emitter.tsType(walk);
  const body = emitter.order.map((n) => renderNamed(n, emitter.named.get(n))).filter(Boolean).join('\n');
  const constName = `${camel(base)}Schema`;
  const fullName = json.namespace ? `${json.namespace}.${json.name}` : json.name;
  const embedded = JSON.stringify(json, null, 2);

  return (
    `// GENERATED FROM schemas/${fileName} — do not edit; run pnpm --filter @labelstream/contracts gen\n` +
    `import type { AvroRecordSchema } from '../avro-schema';\n\n` +
    body +
    `\n/** The Avro schema of schemas/${fileName} (${fullName}), embedded at generation time. */\n` +
    `export const ${constName}: AvroRecordSchema = ${embedded};\n`
  );
}

/** Returns Map<file name under src/generated, content> for every schemas/*.avsc. */
function generateAll(schemasDir = SCHEMAS_DIR) {
  const out = new Map();
  const files = fs.readdirSync(schemasDir).filter((f) => f.endsWith('.avsc')).sort();
  for (const f of files) {
    out.set(f.replace(/\.avsc$/, '.ts'), generateOne(f, fs.readFileSync(path.join(schemasDir, f), 'utf8')));
  }
  return out;
}

function main(argv) {
  const generated = generateAll();
  const check = argv.includes('--check');
  const existing = fs.existsSync(OUT_DIR) ? fs.readdirSync(OUT_DIR).filter((f) => f.endsWith('.ts')) : [];
  const stale = [];
  for (const [file, content] of generated) {
    const target = path.join(OUT_DIR, file);
    const current = fs.existsSync(target) ? fs.readFileSync(target, 'utf8') : null;
    if (current === content) continue;
    stale.push(file);
    if (!check) {
      fs.mkdirSync(OUT_DIR, { recursive: true });
      fs.writeFileSync(target, content);
    }
  }
  const orphans = existing.filter((f) => !generated.has(f));
  for (const f of orphans) {
    stale.push(f);
    if (!check) fs.unlinkSync(path.join(OUT_DIR, f));
  }
  if (check && stale.length > 0) {
    console.error(`stale generated files: ${stale.join(', ')} — run pnpm --filter @labelstream/contracts gen`);
    return 1;
  }
  console.log(check ? 'generated types are up to date' : `generated ${generated.size} files (${stale.length} changed)`);
  return 0;
}

module.exports = { generateAll, generateOne };

if (require.main === module) {
  process.exitCode = main(process.argv.slice(2));
}
