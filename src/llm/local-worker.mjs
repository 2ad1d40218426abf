// The child process that runs node-llama-cpp for LocalChatModel (src/llm/local.ts). node-llama-cpp is
// an ES module, so it cannot be required from this CommonJS package; this file ships with the package
// (the build copies it next to local.js) and is never written at run time.
// Protocol: one JSON object per line on stdin/stdout.
//
// The context holds `sequences` KV sequences. A call names a `conversation`; the worker keeps each
// conversation on its own sequence (least recently used one is recycled), so a conversation that
// grows by appending (the Detective's rounds of one clip) re-evaluates only its new tokens: the
// sequence keeps the evaluated prefix and node-llama-cpp erases only what differs.
//
// A call with `base` (text its last message begins with) is evaluated from the conversation's base
// state: the earlier messages and the base text, evaluated alone once, with the tokens of earlier
// calls after it erased first, so its answer is the one a fresh process gives whatever the sequence
// held before (llama.cpp rounds differently in batches of other sizes). With `persist` (and
// cfg.stateDir, a private directory the parent checked) the base state is loaded from the file an
// earlier process saved, or saved once evaluated: a prompt beginning shared across processes is
// evaluated once per machine. A state file that is not this user's regular file, or fails to load,
// is not used (a warning; the base is evaluated).
import { pathToFileURL } from 'node:url';
import { createInterface } from 'node:readline';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, readdirSync, renameSync, rmSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
const cfg = JSON.parse(process.env.OMNICAP_LOCAL_LLM_CONFIG);
const send = (o) => process.stdout.write(JSON.stringify(o) + '\n');
let ready;
try {
  const { getLlama, LlamaChatSession } = await import(pathToFileURL(cfg.moduleEntry).href);
  const llama = await getLlama({ gpu: false, build: 'never', logLevel: 'error' });
  const model = await llama.loadModel({ modelPath: cfg.modelPath });
  const ctx = await model.createContext({ contextSize: cfg.contextSize, sequences: cfg.sequences, threads: cfg.threads });
  const slots = [];
  for (let i = 0; i < cfg.sequences; i++) slots.push({ seq: ctx.getSequence(), key: undefined, used: 0 });
  const grammar = cfg.jsonSchema ? await llama.createGrammarForJsonSchema(cfg.jsonSchema) : await llama.getGrammarFor('json');
  ready = { llama, LlamaChatSession, model, slots, grammar, grammars: new Map(), clock: 0, contextSize: ctx.contextSize };
  send({ type: 'ready', contextSize: ctx.contextSize / cfg.sequences });
} catch (e) {
  send({ type: 'fatal', message: String(e && e.message || e) });
  process.exit(1);
}
function slotFor(key) {
  const { slots } = ready;
  let slot = key === undefined ? undefined : slots.find((s) => s.key === key);
  if (!slot) {
    slot = slots.reduce((a, b) => (b.used < a.used ? b : a));
    slot.key = key;
    slot.base = undefined;
  }
  slot.used = ++ready.clock;
  return slot;
}
const warn = (message) => send({ type: 'warning', message });
// what a state file holds: a conversation's base alone (files of earlier layouts, which held a whole
// first call, have other names and are never loaded)
const STATE_LAYOUT = 'base-1';
const stateFile = (key) => join(cfg.stateDir, createHash('sha256').update(`${cfg.stateIdentity}\n${STATE_LAYOUT}\n${key}`).digest('hex').slice(0, 32) + '.kv');
const savedKeys = new Set();
async function restoreState(slot, key) {
  const file = stateFile(key);
  const st = lstatSync(file, { throwIfNoEntry: false });
  if (st === undefined) return false;
  try {
    if (!st.isFile() || (st.mode & 0o022) !== 0 || st.uid !== process.getuid()) throw new Error('not a regular file of this user writable only by it');
    await slot.seq.loadStateFromFile(file, { acceptRisk: true });
    const now = new Date();
    utimesSync(file, now, now);
    return true;
  } catch (e) {
    warn(`saved LLM state ${file} not used: ${e && e.message || e}`);
    await slot.seq.clearHistory();
    if (st.isFile() && st.uid === process.getuid()) rmSync(file, { force: true });
    return false;
  }
}
// Puts the slot at its conversation's base state (see the header): restored or evaluated once, then
// the tokens after it erased.
async function toBase(slot, history, o, persist) {
  if (slot.base === undefined) {
    if (!(persist && (await restoreState(slot, o.conversation)))) {
      await slot.seq.clearHistory();
      const session = new ready.LlamaChatSession({ contextSequence: slot.seq, autoDisposeSequence: false });
      session.setChatHistory(history);
      await session.prompt(o.base, { maxTokens: 1, temperature: 0 });
      session.dispose({ disposeSequence: false });
      if (persist) await saveState(slot, o.conversation);
    }
    slot.base = [...slot.seq.contextTokens];
  }
  const tokens = slot.seq.contextTokens;
  let keep = 0;
  while (keep < slot.base.length && keep < tokens.length && tokens[keep] === slot.base[keep]) keep++;
  if (keep < slot.seq.nextTokenIndex) await slot.seq.eraseContextTokenRanges([{ start: keep, end: slot.seq.nextTokenIndex }]);
}
async function saveState(slot, key) {
  if (savedKeys.has(key)) return;
  savedKeys.add(key);
  const file = stateFile(key);
  if (existsSync(file)) return;
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    await slot.seq.saveStateToFile(tmp);
    renameSync(tmp, file);
    pruneStates();
  } catch (e) {
    rmSync(tmp, { force: true });
    warn(`LLM state not saved to ${file}: ${e && e.message || e}`);
  }
}
// the newest cfg.maxStates state files stay (by last use); temporary files of ended processes go
function pruneStates() {
  const entries = readdirSync(cfg.stateDir).map((name) => ({ name, st: lstatSync(join(cfg.stateDir, name)) })).filter((e) => e.st.isFile());
  const hour = Date.now() - 3600e3;
  for (const e of entries) if (e.name.endsWith('.tmp') && e.st.mtimeMs < hour) rmSync(join(cfg.stateDir, e.name), { force: true });
  const states = entries.filter((e) => e.name.endsWith('.kv')).sort((a, b) => b.st.mtimeMs - a.st.mtimeMs);
  for (const e of states.slice(cfg.maxStates)) rmSync(join(cfg.stateDir, e.name), { force: true });
}
// Where a reply starts repeating one of its own sentences (30+ characters, compared on letters and
// digits): the start of the repeat, or -1. A sentence runs from the end of the one before to . ! or ?
// (a closing quote may follow) before a space: "At 8.8 s ..." is one sentence, not "8 s ...".
function repeatAt(text) {
  const seen = new Set();
  const end = /[.!?]+["\u201d']?(?=\s)/g;
  let start = 0;
  for (let m = end.exec(text); m !== null; m = end.exec(text)) {
    const stop = m.index + m[0].length;
    const key = text.slice(start, stop).toLowerCase().replace(/[^a-z0-9]+/g, ' ').trim();
    if (key.length >= 30) {
      if (seen.has(key)) return start + (text.slice(start, stop).length - text.slice(start, stop).trimStart().length);
      seen.add(key);
    }
    start = stop;
  }
  return -1;
}
// plain prose: up to three paragraphs, no line starting a list or heading, no markdown marks
const PROSE_GBNF = [
  'root ::= para ("\\n\\n" para)? ("\\n\\n" para)?',
  'para ::= [^\\n*#|\\x60 \\t-] [^\\n*#|\\x60]*',
].join('\n');
let chain = Promise.resolve();
async function handle(req) {
  const { llama, LlamaChatSession, model, grammar, grammars } = ready;
  try {
    const msgs = req.messages;
    const last = msgs[msgs.length - 1];
    const system = msgs.filter((m) => m.role === 'system').map((m) => m.content).join('\n\n');
    const history = [];
    if (system) history.push({ type: 'system', text: system });
    for (const m of msgs.slice(0, -1)) {
      if (m.role === 'user') history.push({ type: 'user', text: m.content });
      else if (m.role === 'assistant') history.push({ type: 'model', response: [m.content] });
    }
    const o = req.options || {};
    const slot = slotFor(o.conversation);
    const meterBefore = slot.seq.tokenMeter.getState();
    if (o.base !== undefined) {
      if (o.conversation === undefined || typeof last.content !== 'string' || !last.content.startsWith(o.base)) throw new Error('a base needs a conversation and must begin the last message');
      await toBase(slot, history, o, o.persist === true && cfg.stateDir !== undefined);
    }
    const session = new LlamaChatSession({ contextSequence: slot.seq, autoDisposeSequence: false });
    session.setChatHistory(history);
    let g = o.json ? grammar : o.format === 'prose' ? (ready.prose ??= await llama.createGrammar({ grammar: PROSE_GBNF })) : undefined;
    if (o.jsonSchema) {
      const key = JSON.stringify(o.jsonSchema);
      g = grammars.get(key);
      if (!g) {
        g = await llama.createGrammarForJsonSchema(o.jsonSchema);
        if (grammars.size >= 64) grammars.delete(grammars.keys().next().value);
        grammars.set(key, g);
      }
    }
    // `stopOnRepeat`: a reply that repeats one of its sentences is looping; it stops there and keeps
    // what came before the repeat
    const stopper = new AbortController();
    let produced = '';
    let cut = -1;
    const onTextChunk = o.stopOnRepeat !== true ? undefined : (chunk) => {
      if (cut >= 0) return;
      produced += chunk;
      if (!/[.!?]/.test(produced.slice(-chunk.length - 2))) return;
      cut = repeatAt(produced);
      if (cut >= 0) stopper.abort();
    };
    const answer = await session.prompt(last.content, {
      signal: stopper.signal,
      stopOnAbortSignal: true,
      onTextChunk,
      grammar: g,
      maxTokens: o.maxTokens ?? 256,
      temperature: o.temperature ?? 0,
      topP: o.topP,
      seed: o.seed,
      repeatPenalty: o.repeatPenalty === undefined ? undefined : { penalty: o.repeatPenalty },
    });
    const text = cut >= 0 ? produced.slice(0, cut).trimEnd() : answer;
    const completionTokens = model.tokenize(cut >= 0 ? produced : answer).length;
    const finishReason = cut >= 0 ? 'repetition' : completionTokens >= (o.maxTokens ?? 256) ? 'length' : 'stop';
    const contextTokens = slot.seq.nextTokenIndex;
    session.dispose({ disposeSequence: false });
    // prompt tokens decoded for this call (those not already in the sequence): every token decoded
    // minus the generated ones fed back while generating (all but the last)
    const used = slot.seq.tokenMeter.diff(meterBefore);
    const evaluated = Math.max(0, used.usedInputTokens + used.usedOutputTokens - Math.max(0, completionTokens - 1));
    send({ type: 'result', id: req.id, text, promptTokens: Math.max(0, contextTokens - completionTokens), completionTokens, evaluatedTokens: evaluated, finishReason });
  } catch (e) {
    send({ type: 'error', id: req.id, message: String(e && e.message || e) });
  }
}
createInterface({ input: process.stdin }).on('line', (line) => {
  const req = JSON.parse(line);
  chain = chain.then(() => handle(req));
}).on('close', () => process.exit(0));
