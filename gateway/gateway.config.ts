// Hive Gateway configuration of the CRM federation gateway.
//
// Start (from the repository root):
//   gateway/node_modules/.bin/hive-gateway supergraph -c gateway/gateway.config.ts
// Every setting comes from environment variables, read once here at start-up; see gateway/README.md.
// Paths are resolved relative to this file, so the working directory does not matter.

import { createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { maxAliasesPlugin } from '@escape.tech/graphql-armor-max-aliases';
import { GraphQLError } from 'graphql';
import {
  createInlineSigningKeyProvider,
  defineConfig,
  JSONLogWriter,
  Logger,
  type GatewayPlugin,
  type LogLevel,
  type LogWriter,
} from '@graphql-hive/gateway';

const HERE = dirname(fileURLToPath(import.meta.url));
const env = process.env;

function str(name: string, fallback: string): string {
  const v = env[name];
  return v === undefined || v.trim() === '' ? fallback : v.trim();
}

function int(name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) {
    throw new Error(`${name} must be a positive integer, got "${raw}"`);
  }
  return n;
}

// ---------------------------------------------------------------- settings (read once)

const CRM_ENV = str('CRM_ENV', 'production');
const DEV = CRM_ENV === 'development';
const HOST = str('GATEWAY_HOST', '127.0.0.1');
const PORT = int('GATEWAY_PORT', 4000);
const SUPERGRAPH = (() => {
  const p = str('GATEWAY_SUPERGRAPH', resolve(HERE, 'supergraph.graphql'));
  return isAbsolute(p) ? p : resolve(process.cwd(), p);
})();
const JWT_PUBLIC_KEY_FILE = env.JWT_PUBLIC_KEY_FILE?.trim();
const JWT_ISSUER = str('JWT_ISSUER', 'crm-dev');
const JWT_AUDIENCE = str('JWT_AUDIENCE', 'crm');
const MAX_DEPTH = int('GATEWAY_MAX_DEPTH', 10);
const MAX_ALIASES = int('GATEWAY_MAX_ALIASES', 15);
const MAX_TOKENS = int('GATEWAY_MAX_TOKENS', 2000);
const MAX_BODY_BYTES = int('GATEWAY_MAX_BODY_BYTES', 1024 * 1024);
const UPSTREAM_TIMEOUT_MS = int('GATEWAY_UPSTREAM_TIMEOUT_MS', 30_000);
const CORS_ORIGINS = str('GATEWAY_CORS_ORIGINS', '*')
  .split(',')
  .map((o) => o.trim())
  .filter(Boolean);
const LOG_LEVEL = (() => {
  const lvl = str('GATEWAY_LOG_LEVEL', str('LOG_LEVEL', 'info')).toLowerCase();
  const known = ['trace', 'debug', 'info', 'warn', 'error'] as const;
  if (lvl === 'warning') return 'warn';
  if (lvl === 'critical') return 'error';
  return (known as readonly string[]).includes(lvl) ? (lvl as (typeof known)[number]) : 'info';
})();
const CORRELATION_HEADER = 'x-correlation-id';
// Query planner: 'rust' (the default: @graphql-hive/router-runtime, the Hive Router's planner and
// executor) or 'js' (Hive Gateway's own). Issue 15 measured both on the rep's morning, the dossier
// and the list (docs/benchmarks.md). The Rust runtime leaves `data` out of a result whose every
// root field failed; useDataOnFieldErrors() below puts `"data": null` back, as the spec asks.
const QUERY_PLANNER = str('GATEWAY_QUERY_PLANNER', 'rust').toLowerCase();
if (QUERY_PLANNER !== 'js' && QUERY_PLANNER !== 'rust') {
  throw new Error(`GATEWAY_QUERY_PLANNER must be js or rust, got "${QUERY_PLANNER}"`);
}
const unifiedGraphHandler =
  QUERY_PLANNER === 'rust' ? (await import('@graphql-hive/router-runtime')).unifiedGraphHandler : undefined;
const IDEMPOTENCY_HEADER = 'idempotency-key';

if (!JWT_PUBLIC_KEY_FILE) {
  throw new Error('JWT_PUBLIC_KEY_FILE is required: the PEM public key (RS256) that verifies bearer tokens');
}
const JWT_PUBLIC_KEY = readFileSync(JWT_PUBLIC_KEY_FILE, 'utf8');
if (!JWT_PUBLIC_KEY.includes('PUBLIC KEY')) {
  throw new Error(`JWT_PUBLIC_KEY_FILE (${JWT_PUBLIC_KEY_FILE}) does not hold a PEM public key`);
}
// Parsed once. Given the PEM string, jsonwebtoken would run createPublicKey() on every request
// (~0.25 ms of CPU each, ~10 % of the gateway's CPU per request); a KeyObject skips that.
const JWT_KEY_OBJECT = createPublicKey(JWT_PUBLIC_KEY);
if (JWT_KEY_OBJECT.asymmetricKeyType !== 'rsa') {
  throw new Error(`JWT_PUBLIC_KEY_FILE (${JWT_PUBLIC_KEY_FILE}) is not an RSA public key (RS256)`);
}

// Subgraph URL overrides: <NAME>_URL (name upper-cased, non-alphanumerics as "_") replaces the URL
// composed into the supergraph for subgraph <name>, e.g. CLIENTS_URL for "clients". Lets Kubernetes
// point at in-cluster service URLs without recomposing.
function subgraphNames(): string[] {
  const sdl = readFileSync(SUPERGRAPH, 'utf8');
  return [...sdl.matchAll(/@join__graph\(\s*name:\s*"([^"]+)"/g)].map((m) => m[1]);
}
const transportEntries: Record<string, { location: string }> = {};
for (const name of subgraphNames()) {
  const varName = `${name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_URL`;
  const url = env[varName]?.trim();
  if (url) transportEntries[name] = { location: url };
}

// ---------------------------------------------------------------- small plugins

function jsonError(status: number, code: string, message: string, extraHeaders: Record<string, string> = {}) {
  return new Response(JSON.stringify({ errors: [{ message, extensions: { code } }] }), {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', ...extraHeaders },
  });
}

// Request body limit: 413 when Content-Length says too much, or when a body without one (chunked)
// grows past the limit while it is read.
function useBodyLimit(limit: number): GatewayPlugin {
  const tooLarge = () =>
    jsonError(413, 'PAYLOAD_TOO_LARGE', `Request body exceeds the limit of ${limit} bytes`);
  return {
    onRequest({ request, endResponse }) {
      const length = request.headers.get('content-length');
      if (length !== null && Number(length) > limit) endResponse(tooLarge());
    },
    onRequestParse({ request, requestParser, setRequestParser }) {
      if (!requestParser || !request.body || request.headers.get('content-length') !== null) return;
      setRequestParser(async (req) => {
        const reader = req.body!.getReader();
        const chunks: Uint8Array[] = [];
        let total = 0;
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          total += value.byteLength;
          if (total > limit) {
            await reader.cancel().catch(() => {});
            return tooLarge();
          }
          chunks.push(value);
        }
        const body = Buffer.concat(chunks);
        const headers = new Headers(req.headers);
        headers.set('content-length', String(body.byteLength));
        return requestParser(new Request(req.url, { method: req.method, headers, body }));
      });
    },
  };
}

// x-correlation-id: the client's value when it is a sane token (same rule as crm_common.correlation:
// 1-128 of [A-Za-z0-9._:-]), otherwise a new one (uuid4 hex, as the services make them). It is sent
// on every subgraph fetch, echoed in the response, and attached to the gateway's log lines as
// "correlationId". (The gateway's built-in requestId feature would forward any client value as is.)
const SAFE_CORRELATION_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const correlationIds = new WeakMap<Request, string>();
function useCorrelationId(): GatewayPlugin {
  return {
    onRequest({ request, serverContext }) {
      const sent = request.headers.get(CORRELATION_HEADER);
      const cid =
        sent && SAFE_CORRELATION_ID.test(sent) ? sent : crypto.randomUUID().replace(/-/g, '');
      correlationIds.set(request, cid);
      const ctx = serverContext as any;
      if (ctx?.log?.child) ctx.log = ctx.log.child({ correlationId: cid });
    },
    onFetch({ context, options, setOptions }) {
      const request = (context as any)?.request as Request | undefined;
      const cid = request && correlationIds.get(request);
      if (cid) {
        const headers = new Headers(options.headers as HeadersInit | undefined);
        headers.set(CORRELATION_HEADER, cid);
        setOptions({ ...options, headers: Object.fromEntries(headers) });
      }
    },
    onResponse({ request, response }) {
      const cid = correlationIds.get(request);
      if (cid) response.headers.set(CORRELATION_HEADER, cid);
    },
  };
}

// Faults carry a trace id (production only, where errors are masked). Yoga masks every error that
// is not a GraphQL error of its own making (an unreachable subgraph, a subgraph timeout, a bug in a
// plugin) as "Unexpected error." and logs the cause on the gateway-wide logger, without the request's
// correlation id. This plugin runs first, on the execution result: it replaces each such error by
//   {"message": "Unexpected error.", "path": [...],
//    "extensions": {"code": "INTERNAL_SERVER_ERROR", "traceId": "<x-correlation-id>"}}
// and logs the cause on the request's logger (so the line carries "correlationId" = traceId). The
// replacement is a plain GraphQL error, so Yoga's masking lets it through and does not log it again.
// Errors the subgraphs sent (validation, BAD_USER_INPUT, their own masked faults
// {"code": "INTERNAL_SERVER_ERROR", "traceId": ...}) and the gateway's own request errors are GraphQL errors
// already and pass unchanged. Faults that Yoga masks outside execution get the traceId added in
// onResultProcess (their log line is Yoga's, without the correlation id).
const MASKED_MESSAGE = 'Unexpected error.';
const MASKED_CODE = 'INTERNAL_SERVER_ERROR';
function isOriginalGraphQLError(error: unknown): boolean {
  // as graphql-yoga decides what to mask: a GraphQLError whose chain of originalErrors ends in one
  if (!(error instanceof GraphQLError)) return false;
  return error.originalError == null || isOriginalGraphQLError(error.originalError);
}
function rootCause(error: unknown): unknown {
  let e: any = error;
  while (e instanceof GraphQLError && e.originalError) e = e.originalError;
  return e;
}
// The onExecuteDone hook of a plugin that looks at (and may replace) every execution result, a
// streamed one's included.
type ResultPayload = { result: any; setResult: (r: any) => void };
function onEveryResult(handle: (payload: ResultPayload) => void) {
  return (payload: any) => {
    if (payload.result && typeof payload.result[Symbol.asyncIterator] === 'function') {
      return { onNext: handle };
    }
    handle(payload);
    return undefined;
  };
}

// A field that points into another subgraph (Meeting.client, Task.assignee, ...) is nullable
// (issue 14): the subgraph that owns the entity answers null for one the caller may not see. The
// gateway then still tries to complete the selected non-null fields of that null entity and
// reports "Cannot return null for non-nullable field Client.legalName." -- which yoga would mask
// as a fault (INTERNAL_SERVER_ERROR) beside the correct data. Such an error is dropped when the
// null stopped at a nullable field whose parent is answered (the reference is simply absent:
// "not found" reads as null, DESIGN §6); one that nulled anything further up is kept.
const NON_NULL_VIOLATION = /^Cannot return null for non-nullable field [A-Za-z_][\w]*\.[A-Za-z_][\w]*\.$/;
function nullStoppedAtReference(data: any, path: readonly (string | number)[] | undefined): boolean {
  if (!path || path.length < 2 || data == null) return false;
  let parent: any = data;
  for (const key of path.slice(0, -2)) {
    if (parent == null || typeof parent !== 'object') return false;
    parent = parent[key as any];
  }
  const field = path[path.length - 2];
  return parent != null && typeof parent === 'object' && field in parent && parent[field] === null;
}
function useUnavailableReferences(): GatewayPlugin {
  const drop = ({ result, setResult }: { result: any; setResult: (r: any) => void }) => {
    const errors: readonly any[] | undefined = result?.errors;
    if (!errors?.length) return;
    const kept = errors.filter((e) => {
      const message = String((rootCause(e) as any)?.message ?? e?.message ?? '');
      return !(NON_NULL_VIOLATION.test(message) && nullStoppedAtReference(result.data, e?.path));
    });
    if (kept.length !== errors.length) {
      setResult({ ...result, errors: kept.length ? kept : undefined });
    }
  };
  return {
    onExecute() {
      return { onExecuteDone: onEveryResult(drop) };
    },
  };
}

// A result of execution that carries field errors (errors with a `path`) but no `data`: the Rust
// runtime (@graphql-hive/router-runtime) answers so when every root field failed -- an unreachable
// subgraph, say. The GraphQL spec (7.1.2, "Data") says `data` is present, null, once execution
// started and an error nulled the root; Hive Gateway's JS planner answers that way. Request errors
// (no path: bad variables, validation) keep their answer without `data`.
function addMissingData({ result, setResult }: { result: any; setResult: (r: any) => void }) {
  if (!result || typeof result !== 'object' || 'data' in result) return;
  const errors: readonly any[] | undefined = result.errors;
  if (errors?.length && errors.some((e) => Array.isArray(e?.path) && e.path.length > 0)) {
    setResult({ ...result, data: null });
  }
}
function useDataOnFieldErrors(): GatewayPlugin {
  return {
    onExecute() {
      return { onExecuteDone: onEveryResult(addMissingData) };
    },
  };
}

function useTraceIdOnFaults(rootLog: Logger): GatewayPlugin {
  const mask = (error: GraphQLError, traceId: string, log: Logger) => {
    const cause: any = rootCause(error);
    log.error(
      {
        ...error.toJSON(),
        ...(cause instanceof Error && !(cause instanceof GraphQLError)
          ? { cause: { name: cause.name, message: cause.message, stack: cause.stack } }
          : {}),
      },
      'Masked an unexpected error',
    );
    const http = (error.extensions as any)?.http;
    return new GraphQLError(MASKED_MESSAGE, {
      nodes: error.nodes,
      source: error.source,
      positions: error.positions,
      path: error.path,
      extensions: { code: MASKED_CODE, traceId, ...(http ? { http } : {}) },
    });
  };
  const fix = (context: any) => ({ result, setResult }: { result: any; setResult: (r: any) => void }) => {
    const errors: readonly unknown[] | undefined = result?.errors;
    if (!errors?.length || errors.every(isOriginalGraphQLError)) return;
    const request = context?.request as Request | undefined;
    const traceId = (request && correlationIds.get(request)) || '-';
    // the request's logger carries correlationId (useCorrelationId); the root one is a fallback
    const log: Logger = context?.log?.error ? context.log : rootLog.child({ correlationId: traceId });
    setResult({
      ...result,
      errors: errors.map((e) => {
        if (isOriginalGraphQLError(e)) return e;
        const error =
          e instanceof GraphQLError
            ? e
            : new GraphQLError(String((e as any)?.message ?? e), { originalError: e as Error });
        return mask(error, traceId, log);
      }),
    });
  };
  return {
    onExecute({ args }) {
      return { onExecuteDone: onEveryResult(fix(args.contextValue)) };
    },
    onResultProcess({ request, result }) {
      const traceId = correlationIds.get(request);
      if (!traceId) return;
      for (const r of (Array.isArray(result) ? result : [result]) as any[]) {
        for (const err of r?.errors ?? []) {
          const ext = err?.extensions;
          if (ext?.code === MASKED_CODE && err.message === MASKED_MESSAGE && !ext.traceId) {
            err.extensions = { ...ext, traceId };
          }
        }
      }
    },
  };
}

// Bearer token lookup. Anything that is not "Bearer <three base64url segments with a JSON header>"
// counts as no token, so every authentication failure is the same HTTP 401 (the plugin's own lookup
// answers 400 for a wrong prefix or an undecodable token).
function bearerToken({ request }: { request: Request }) {
  const header = request?.headers.get('authorization');
  const match = header?.match(/^Bearer\s+([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)\s*$/i);
  if (!match) return undefined;
  try {
    const head = JSON.parse(Buffer.from(match[1].split('.')[0], 'base64url').toString('utf8'));
    if (typeof head !== 'object' || head === null) return undefined;
  } catch {
    return undefined;
  }
  return { token: match[1], prefix: 'Bearer' };
}

// Machine-readable codes on refusals that come without one:
// - the JWT plugin answers HTTP 401 {"errors":[{"message":"Unauthenticated"}]} -> code UNAUTHENTICATED,
//   plus the WWW-Authenticate challenge;
// - graphql-armor's depth / alias / token limits answer "Syntax Error: ... limit of N exceeded" ->
//   MAX_DEPTH_EXCEEDED / MAX_ALIASES_EXCEEDED / MAX_TOKENS_EXCEEDED, and the message loses its
//   "Syntax Error: " prefix: "Query depth limit of 10 exceeded, found 14." — word for word what a
//   subgraph answers (crm_common.graphql.limits).
const LIMIT_CODES: [RegExp, string][] = [
  [/Query depth limit of \d+ exceeded/, 'MAX_DEPTH_EXCEEDED'],
  [/Aliases limit of \d+ exceeded/, 'MAX_ALIASES_EXCEEDED'],
  [/Token limit of \d+ exceeded/, 'MAX_TOKENS_EXCEEDED'],
];
function useErrorCodes(): GatewayPlugin {
  return {
    onResultProcess({ result }) {
      const results = Array.isArray(result) ? result : [result];
      for (const r of results as any[]) {
        for (const err of r?.errors ?? []) {
          if (!err || typeof err !== 'object') continue;
          const ext = err.extensions ?? {};
          let code: string | undefined;
          if (ext.http?.status === 401 && !ext.code) code = 'UNAUTHENTICATED';
          for (const [pattern, limitCode] of LIMIT_CODES) {
            if (pattern.test(String(err.message))) {
              code = limitCode;
              // the refusal is not a syntax error; the subgraphs say it without the prefix too
              err.message = String(err.message).replace(/^Syntax Error: /, '');
            }
          }
          if (code) err.extensions = { ...ext, code };
        }
      }
    },
    onResponse({ response }) {
      if (response.status === 401 && !response.headers.has('www-authenticate')) {
        response.headers.set('www-authenticate', 'Bearer realm="crm"');
      }
    },
  };
}

// A refused token is an expected failure (the client gets its 401), not a fault: the JWT plugin
// logs every one at level warn with the jsonwebtoken error and its stack trace (~15 lines each, a
// flood when a front end keeps an expired token). This writer turns each such line into one line at
// level info with the reason and no stack:
//   {"reason":"jwt expired","error":"TokenExpiredError","level":"info","msg":"Refused an authentication token"}
// (dropped, like any info line, when the level is warn or error). Everything else passes unchanged.
const LEVEL_ORDER: LogLevel[] = ['trace', 'debug', 'info', 'warn', 'error'];
class QuietTokenRefusals implements LogWriter {
  constructor(
    private readonly inner: LogWriter,
    private readonly level: LogLevel,
  ) {}
  write(level: LogLevel, attrs: any, msg: string | null | undefined) {
    if (msg?.startsWith('Failed to verify authentication token')) {
      if (LEVEL_ORDER.indexOf(this.level) > LEVEL_ORDER.indexOf('info')) return;
      const { 0: err, ...rest } = attrs ?? {};
      return this.inner.write(
        'info',
        { ...rest, reason: err?.message ?? String(err), error: err?.name ?? err?.class },
        'Refused an authentication token',
      );
    }
    return this.inner.write(level, attrs, msg);
  }
  flush() {
    return this.inner.flush?.();
  }
}

// ---------------------------------------------------------------- the configuration

export const gatewayConfig = defineConfig({
  supergraph: SUPERGRAPH,
  ...(unifiedGraphHandler ? { unifiedGraphHandler } : {}),
  host: HOST,
  port: PORT,
  fork: 1,
  logging: new Logger({
    level: LOG_LEVEL,
    writers: [new QuietTokenRefusals(new JSONLogWriter(), LOG_LEVEL)],
  }),

  transportEntries,
  upstreamTimeout: UPSTREAM_TIMEOUT_MS,

  jwt: {
    // typed as string, passed through to jsonwebtoken.verify(), which takes a KeyObject as is
    signingKeyProviders: [createInlineSigningKeyProvider(JWT_KEY_OBJECT as unknown as string)],
    tokenVerification: {
      algorithms: ['RS256'],
      issuer: JWT_ISSUER,
      audience: JWT_AUDIENCE,
    },
    tokenLookupLocations: [bearerToken],
    reject: { missingToken: true, invalidToken: true },
    // The subgraphs verify the forwarded Authorization header themselves; no JWT payload in extensions.
    forward: { payload: false, token: false },
  },
  // Idempotency-Key (issue 14; docs/api.md): every subgraph's mutation helper stores a mutation's
  // outcome under it, so a mobile app's retry is answered without doing the work twice. Forwarded
  // as sent; the subgraphs check it (1-255 visible ASCII characters).
  propagateHeaders: {
    fromClientToSubgraphs({ request }) {
      const headers: Record<string, string | null> = {
        authorization: request.headers.get('authorization'),
      };
      const key = request.headers.get(IDEMPOTENCY_HEADER);
      if (key !== null) headers[IDEMPOTENCY_HEADER] = key;
      return headers;
    },
  },
  // Correlation ids are handled by useCorrelationId() below.
  requestId: false,

  maxDepth: MAX_DEPTH,
  maxTokens: MAX_TOKENS,
  blockFieldSuggestions: !DEV,

  cors: {
    origin: CORS_ORIGINS.includes('*') ? '*' : CORS_ORIGINS,
    methods: ['GET', 'POST', 'OPTIONS'],
    allowedHeaders: ['authorization', 'content-type', CORRELATION_HEADER, IDEMPOTENCY_HEADER],
    exposedHeaders: [CORRELATION_HEADER],
    credentials: false,
    maxAge: 600,
  },

  // Per-request metrics only. `metrics: true` also turns on, per request: a deprecated-field count
  // (walks the document with TypeInfo), a Summary (sliding-window quantiles), a histogram per
  // GraphQL phase (parse, validate, context, execute), a second request counter and duration, and a
  // histogram per subgraph fetch -- ~5 % of the gateway's CPU per request together. Kept: one
  // histogram per HTTP request (count + latency, by operation and status; its `url` label dropped:
  // with GET every query string would be a new series), the error-result counter, subgraph
  // execution duration and errors, schema reloads.
  prometheus: {
    endpoint: '/metrics',
    labels: { url: false },
    metrics: {
      graphql_yoga_http_duration: true,
      graphql_envelop_error_result: true,
      graphql_envelop_schema_change: true,
      graphql_gateway_subgraph_execute_duration: true,
      graphql_gateway_subgraph_execute_errors: true,
      graphql_envelop_request: false,
      graphql_envelop_request_duration: false,
      graphql_envelop_request_time_summary: false,
      graphql_envelop_deprecated_field: false,
      graphql_envelop_phase_parse: false,
      graphql_envelop_phase_validate: false,
      graphql_envelop_phase_context: false,
      graphql_envelop_phase_execute: false,
      graphql_envelop_phase_subscribe: false,
      graphql_envelop_execute_resolver: false,
      graphql_gateway_fetch_duration: false,
    },
  },
  healthCheckEndpoint: '/healthcheck',
  readinessCheckEndpoint: '/readiness',

  graphiql: DEV,
  landingPage: DEV,
  ...(DEV ? {} : { disableIntrospection: {} }),
  maskedErrors: !DEV,

  plugins: ({ log }) => [
    useCorrelationId(),
    useBodyLimit(MAX_BODY_BYTES),
    maxAliasesPlugin({ n: MAX_ALIASES }) as GatewayPlugin,
    useErrorCodes(),
    useUnavailableReferences(),
    useDataOnFieldErrors(),
    ...(DEV ? [] : [useTraceIdOnFaults(log)]),
  ],
});
