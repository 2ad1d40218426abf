/**
 * GET /openapi.json: the document is OpenAPI 3.1 with every route the Express app mounts (and no
 * other), its schemas compile under Ajv's strict JSON Schema 2020-12 mode, and REAL responses of
 * a server on loopback (the tiny fixture model) validate against the response schemas it names:
 * captions (JSON, SSE events), chat completions (JSON, chunks), observers, models, health, and
 * error bodies (400, 401, 404, 413).
 */
import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import type { Captioner } from '../../src/engine/types';
import { ALSA_FRONT, expectError, loadTiny, parseSse, postJson, start, wavBase64, wavBytes, type Started } from './helpers';

type Json = Record<string, unknown>;

interface Doc {
  openapi: string;
  info: { title: string; version: string };
  paths: Record<string, Record<string, { responses: Record<string, Json>; security?: unknown[]; requestBody?: { content: Record<string, { schema: Json }> } }>>;
  components: { schemas: Record<string, Json>; responses: Record<string, Json>; securitySchemes?: Record<string, Json> };
}

let captioner: Captioner;
let open: Started;
let keyed: Started;
let doc: Doc;
let keyedDoc: Doc;
let ajv: Ajv2020;

async function fetchDoc(url: string): Promise<Doc> {
  const res = await fetch(`${url}/openapi.json`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  return (await res.json()) as Doc;
}

beforeAll(async () => {
  captioner = await loadTiny();
  open = await start({ captioner, maxUploadBytes: 600_000 });
  keyed = await start({ captioner, apiKeys: ['sekret'] });
  doc = await fetchDoc(open.url);
  keyedDoc = await fetchDoc(keyed.url); // open without a key, like /healthz
  // The document as served; its $refs resolve inside it (non-schema keys are ignored here: the
  // component schemas themselves are compiled in strict mode below).
  ajv = new Ajv2020({ strict: false, discriminator: true, allErrors: true });
  ajv.addSchema(doc, 'openapi.json');
});

afterAll(async () => {
  await open?.server.close();
  await keyed?.server.close();
  await captioner?.dispose();
});

/** Follows a `$ref` of the document (components only). */
function deref(x: Json): Json {
  const r = x.$ref;
  if (typeof r !== 'string') return x;
  const [, kind, name] = /^#\/components\/(\w+)\/(.+)$/.exec(r) ?? [];
  const target = (doc.components as unknown as Record<string, Record<string, Json>>)[kind]?.[name];
  if (target === undefined) throw new Error(`unresolved ${r}`);
  return target;
}

/** The validator of the schema the document gives for this response. */
function responseValidator(path: string, method: string, status: number, type = 'application/json', key: 'schema' | 'x-event-schema' = 'schema'): ValidateFunction {
  const op = doc.paths[path]?.[method];
  if (op === undefined) throw new Error(`${method} ${path} is not in the document`);
  const response = op.responses[String(status)];
  if (response === undefined) throw new Error(`${method} ${path} documents no ${status}`);
  const content = (deref(response).content as Record<string, Json> | undefined)?.[type];
  const schema = content?.[key] as Json | undefined;
  if (schema === undefined) throw new Error(`${method} ${path} ${status} has no ${type} ${key}`);
  return typeof schema.$ref === 'string' ? ajv.compile({ $ref: `openapi.json${schema.$ref}` }) : ajv.compile(schema);
}

function expectValid(validate: ValidateFunction, body: unknown): void {
  const ok = validate(body);
  expect({ ok, errors: validate.errors ?? null }).toEqual({ ok: true, errors: null });
}

/** Every (METHOD, /path/{param}) the Express app answers. */
function mountedRoutes(app: Started['server']['app']): string[] {
  interface Layer {
    route?: { path: string | string[]; methods: Record<string, boolean> };
    handle: { stack?: Layer[] };
  }
  const out = new Set<string>();
  const walk = (stack: Layer[]): void => {
    for (const layer of stack) {
      if (layer.route !== undefined) {
        for (const p of ([] as string[]).concat(layer.route.path)) {
          for (const m of Object.keys(layer.route.methods)) out.add(`${m.toUpperCase()} ${p.replace(/:(\w+)/g, '{$1}')}`);
        }
      } else if (layer.handle.stack !== undefined) walk(layer.handle.stack);
    }
  };
  walk((app as unknown as { router: { stack: Layer[] } }).router.stack);
  return [...out].sort();
}

const documented = (d: Doc): string[] => Object.entries(d.paths).flatMap(([p, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${p}`)).sort();

describe('the document', () => {
  test('is OpenAPI 3.1 and names exactly the routes the server mounts', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info.title).toBe('omnicap');
    expect(doc.info.version).toMatch(/^\d+\.\d+\.\d+/);
    const mounted = mountedRoutes(open.server.app);
    expect(mounted).toEqual(expect.arrayContaining(['POST /v1/captions', 'POST /v1/chat/completions', 'GET /openapi.json', 'GET /v1/models/{id}', 'POST /v1/observers/{name}']));
    expect(documented(doc)).toEqual(mounted);
    for (const [path, methods] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(methods)) {
        expect({ path, method, has2xx: op.responses['200'] !== undefined || op.responses['202'] !== undefined }).toEqual({ path, method, has2xx: true });
        for (const p of path.match(/\{\w+\}/g) ?? []) {
          expect((op as { parameters?: Array<{ name: string; in: string; required: boolean }> }).parameters).toContainEqual(expect.objectContaining({ name: p.slice(1, -1), in: 'path', required: true }));
        }
      }
    }
  });

  test('every $ref resolves and every component schema compiles in strict JSON Schema 2020-12', () => {
    const refs: string[] = [];
    const walk = (x: unknown): void => {
      if (Array.isArray(x)) x.forEach(walk);
      else if (typeof x === 'object' && x !== null) {
        for (const [k, v] of Object.entries(x)) {
          if (k === '$ref' && typeof v === 'string') refs.push(v);
          else walk(v);
        }
      }
    };
    walk(doc);
    expect(refs.length).toBeGreaterThan(20);
    for (const r of refs) expect(() => deref({ $ref: r })).not.toThrow();
    const strict = new Ajv2020({ strict: true, strictTypes: false, discriminator: true, keywords: ['x-unsupported'], formats: { binary: true } });
    for (const [name, schema] of Object.entries(doc.components.schemas)) {
      expect({ name, compiles: typeof strict.compile(schema) }).toEqual({ name, compiles: 'function' });
    }
  });

  test('request bodies: JSON and multipart for captions and observers, JSON for chat', () => {
    expect(Object.keys(doc.paths['/v1/captions'].post.requestBody?.content ?? {}).sort()).toEqual(['application/json', 'multipart/form-data']);
    expect(Object.keys(doc.paths['/v1/observers/{name}'].post.requestBody?.content ?? {}).sort()).toEqual(['application/json', 'multipart/form-data']);
    expect(Object.keys(doc.paths['/v1/chat/completions'].post.requestBody?.content ?? {})).toEqual(['application/json']);
    // the ranges in the document are the ones the server enforces
    const props = doc.components.schemas.CaptionsRequest.properties as Record<string, { anyOf: Json[] }>;
    expect(props.top_p.anyOf[0]).toMatchObject({ type: 'number', exclusiveMinimum: 0, maximum: 1 });
    expect(props.window_seconds.anyOf[0]).toMatchObject({ type: 'number', minimum: 1, maximum: 30 });
    expect(doc.components.schemas.CaptionsRequest.additionalProperties).toBe(false);
  });

  test('the bearer scheme is on /v1/* only when the server has API keys', () => {
    expect(doc.components.securitySchemes).toBeUndefined();
    expect(doc.paths['/v1/captions'].post.security).toBeUndefined();
    expect(keyedDoc.components.securitySchemes?.bearer).toEqual(expect.objectContaining({ type: 'http', scheme: 'bearer' }));
    for (const [path, methods] of Object.entries(keyedDoc.paths)) {
      for (const op of Object.values(methods)) {
        if (path.startsWith('/v1/')) {
          expect(op.security).toEqual([{ bearer: [] }]);
          expect(op.responses['401']).toBeDefined();
        } else expect(op.security).toEqual([]);
      }
    }
  });
});

describe('real responses validate against the document', () => {
  const audio = (): Json => ({ type: 'input_audio', input_audio: { data: wavBase64(ALSA_FRONT), format: 'wav' } });

  test('POST /v1/captions: JSON, multipart and the SSE events', async () => {
    const res = await postJson(`${open.url}/v1/captions`, { data: wavBase64(ALSA_FRONT), max_tokens: 3, temperature: 0 });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { model: string; usage: { completion_tokens: number }; request_id: string };
    const validateCaption = responseValidator('/v1/captions', 'post', 200);
    expectValid(validateCaption, body);
    // the schema is not vacuous: an undocumented field, a missing one or a wrong type fails
    expect(validateCaption({ ...body, extra: 1 })).toBe(false);
    expect(validateCaption({ ...body, usage: undefined })).toBe(false);
    expect(validateCaption({ ...body, finish_reason: 'tired' })).toBe(false);
    expect(body.model).toBe(captioner.modelId);
    expect(body.usage.completion_tokens).toBeLessThanOrEqual(3);
    expect(body.request_id).toBe(res.headers.get('x-request-id'));

    const fd = new FormData();
    fd.append('file', new Blob([wavBytes(ALSA_FRONT)]), 'front.wav');
    fd.append('max_tokens', '2');
    fd.append('temperature', '0');
    const form = await fetch(`${open.url}/v1/captions`, { method: 'POST', body: fd });
    expect(form.status).toBe(200);
    const formBody = (await form.json()) as { usage: { completion_tokens: number } };
    expectValid(responseValidator('/v1/captions', 'post', 200), formBody);
    expect(formBody.usage.completion_tokens).toBeLessThanOrEqual(2);

    const sse = await postJson(`${open.url}/v1/captions`, { data: wavBase64(ALSA_FRONT), max_tokens: 3, temperature: 0, stream: true });
    expect(sse.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const events = parseSse(await sse.text()).map((e) => JSON.parse(e.data) as { type: string });
    const validate = responseValidator('/v1/captions', 'post', 200, 'text/event-stream', 'x-event-schema');
    for (const e of events) expectValid(validate, e);
    expect(events[0].type).toBe('window');
    expect(events[events.length - 1].type).toBe('done');
  });

  test('POST /v1/chat/completions: a completion and its chunks', async () => {
    const res = await postJson(`${open.url}/v1/chat/completions`, { model: 'any', max_tokens: 3, temperature: 0, messages: [{ role: 'user', content: [audio(), { type: 'text', text: 'Describe.' }] }] });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { model: string; object: string };
    expectValid(responseValidator('/v1/chat/completions', 'post', 200), body);
    expect(body.model).toBe(captioner.modelId);

    const sse = await postJson(`${open.url}/v1/chat/completions`, { max_tokens: 3, temperature: 0, stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: [audio()] }] });
    const frames = parseSse(await sse.text()).map((e) => e.data);
    expect(frames[frames.length - 1]).toBe('[DONE]');
    const validate = responseValidator('/v1/chat/completions', 'post', 200, 'text/event-stream', 'x-event-schema');
    const chunks = frames.slice(0, -1).map((f) => JSON.parse(f) as { usage?: unknown });
    for (const c of chunks) expectValid(validate, c);
    expect(chunks[chunks.length - 1].usage).toEqual(expect.objectContaining({ completion_tokens: expect.any(Number) }));
  });

  test('observers, models, health and readiness', async () => {
    const list = await (await fetch(`${open.url}/v1/observers`)).json();
    expectValid(responseValidator('/v1/observers', 'get', 200), list);
    const obs = await postJson(`${open.url}/v1/observers/captioner`, { data: wavBase64(ALSA_FRONT), question: 'what?', max_tokens: 2 });
    expect(obs.status).toBe(200);
    const observation = (await obs.json()) as { observer: string; data: { usage: { completion_tokens: number } } };
    expectValid(responseValidator('/v1/observers/{name}', 'post', 200), observation);
    expect(observation.observer).toBe('captioner');
    expect(observation.data.usage.completion_tokens).toBeLessThanOrEqual(2); // max_tokens reached the captioner
    const models = (await (await fetch(`${open.url}/v1/models`)).json()) as { data: Array<{ id: string }> };
    expectValid(responseValidator('/v1/models', 'get', 200), models);
    expect(models.data.map((m) => m.id)).toEqual([captioner.modelId]);
    expectValid(responseValidator('/v1/models/{id}', 'get', 200), await (await fetch(`${open.url}/v1/models/${encodeURIComponent(captioner.modelId)}`)).json());
    expectValid(responseValidator('/healthz', 'get', 200), await (await fetch(`${open.url}/healthz`)).json());
    const ready = (await (await fetch(`${open.url}/readyz`)).json()) as { status: string };
    expectValid(responseValidator('/readyz', 'get', 200), ready);
    expect(ready.status).toBe('ready');
  });

  test('the demo page: GET /v1/ui/config, the page and its files (open; only the listed files)', async () => {
    const config = (await (await fetch(`${open.url}/v1/ui/config`)).json()) as Json;
    const validate = responseValidator('/v1/ui/config', 'get', 200);
    expectValid(validate, config);
    expect(config).toEqual({ object: 'ui.config', version: doc.info.version, backends: [{ id: 'captioner', ready: true, model: captioner.modelId }], limits: { max_upload_bytes: 600_000, max_audio_seconds: 600 } });
    expect(validate({ ...config, backends: [{ id: 'wizard', ready: true }] })).toBe(false);
    await expectError(await fetch(`${keyed.url}/v1/ui/config`), 401, 'UNAUTHORIZED');

    for (const [path, type] of [['/', 'text/html'], ['/ui/demo.mjs', 'text/javascript'], ['/ui/demo.css', 'text/css']]) {
      const res = await fetch(`${keyed.url}${path}`); // open like /healthz: the page asks for the key itself
      expect({ path, status: res.status, type: res.headers.get('content-type') }).toEqual({ path, status: 200, type: expect.stringContaining(type) });
      expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    }
    const html = await (await fetch(`${open.url}/`)).text();
    expect(html).toContain('<script type="module" src="/ui/demo.mjs"></script>');
    expect(html).not.toMatch(/https?:\/\//); // no CDN, no external font
    for (const path of ['/ui/..%2Fapp.ts', '/ui/ui.ts', '/ui/']) {
      const res = await fetch(`${open.url}${path}`);
      expect({ path, status: res.status }).toEqual({ path, status: 404 });
    }
  });

  test('error bodies: 400 with param, 404, 413 and 401', async () => {
    const bad = await expectError(await postJson(`${open.url}/v1/captions`, { data: wavBase64(ALSA_FRONT), top_p: 0 }), 400, 'INVALID_ARGUMENT');
    expectValid(responseValidator('/v1/captions', 'post', 400), bad);
    expect((bad.error as { param?: string }).param).toBe('top_p');
    const chatBad = await expectError(await postJson(`${open.url}/v1/chat/completions`, { messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'x' } }] }] }), 400, 'INVALID_ARGUMENT');
    expectValid(responseValidator('/v1/chat/completions', 'post', 400), chatBad);
    expect((chatBad.error as { param?: string }).param).toBe('messages[0].content[0].type');

    const missingModel = await expectError(await fetch(`${open.url}/v1/models/nope`), 404, 'NOT_FOUND');
    expectValid(responseValidator('/v1/models/{id}', 'get', 404), missingModel);
    const missingObserver = await expectError(await postJson(`${open.url}/v1/observers/nope`, { question: 'x' }), 404, 'OBSERVER_NOT_FOUND');
    expectValid(responseValidator('/v1/observers/{name}', 'post', 404), missingObserver);

    const huge = await expectError(await postJson(`${open.url}/v1/captions`, { data: 'A'.repeat(2_500_000) }), 413, 'PAYLOAD_TOO_LARGE');
    expectValid(responseValidator('/v1/captions', 'post', 413), huge);

    const noKey = await expectError(await fetch(`${keyed.url}/v1/models`), 401, 'UNAUTHORIZED');
    const keyedValidate = ajv.compile({ $ref: `openapi.json${(deref(keyedDoc.paths['/v1/models'].get.responses['401']).content as Record<string, { schema: { $ref: string } }>)['application/json'].schema.$ref}` });
    expectValid(keyedValidate, noKey);
    const withKey = await fetch(`${keyed.url}/v1/models`, { headers: { authorization: 'Bearer sekret' } });
    expect(withKey.status).toBe(200);
  });
});
