#!/usr/bin/env node
// The breaking-change check of the public API: compares the API schema of the current supergraph
// with that of the last released one, with @graphql-inspector/core, and prints every change as
// one JSON object per line: {"criticality": "BREAKING"|"DANGEROUS"|"NON_BREAKING", "type":
// "FIELD_REMOVED", "path": "Client.tasks", "message": "..."}.
//
// Both files are supergraphs; each is first reduced to the schema a client sees
// (transformSupergraphToPublicSchema: no join__/link__ types and directives, @inaccessible
// elements left out), so moving a field between subgraphs is no change and only what front ends
// see counts.
//
// Usage (paths default to this script's directory):
//   node gateway/breaking.mjs [--old released.graphql] [--new supergraph.graphql]
// Exit codes: 0 compared (whatever the changes; tests/gateway/test_breaking_changes.py judges
// them against docs/api-changes.md); 2 input error.

import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildASTSchema, parse } from 'graphql';
import { transformSupergraphToPublicSchema } from '@theguild/federation-composition';
import { diff } from '@graphql-inspector/core';

const HERE = dirname(fileURLToPath(import.meta.url));

function usage(msg) {
  if (msg) console.error(`breaking.mjs: ${msg}`);
  console.error('usage: node gateway/breaking.mjs [--old FILE] [--new FILE]');
  process.exit(2);
}

const opts = { old: resolve(HERE, 'released.graphql'), new: resolve(HERE, 'supergraph.graphql') };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  if (a === '--old' || a === '--new') {
    const v = argv[++i];
    if (v === undefined) usage(`${a} needs a value`);
    opts[a.slice(2)] = resolve(v);
  } else if (a === '-h' || a === '--help') usage();
  else usage(`unknown argument ${a}`);
}

function publicSchema(path) {
  let text;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    usage(`cannot read ${path}: ${e.message}`);
  }
  try {
    return buildASTSchema(transformSupergraphToPublicSchema(parse(text)), { assumeValidSDL: true });
  } catch (e) {
    usage(`${path} is not a supergraph: ${e.message}`);
  }
}

const changes = await diff(publicSchema(opts.old), publicSchema(opts.new));
for (const c of changes) {
  console.log(
    JSON.stringify({
      criticality: c.criticality.level,
      type: c.type,
      path: c.path ?? '',
      message: c.message,
    }),
  );
}
