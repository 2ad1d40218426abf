/**
 * Source of the child process that runs node-llama-cpp (an ES module, so it cannot be required
 * from this CommonJS package). Protocol: one JSON object per line on stdin/stdout.
 */
export const LOCAL_WORKER_SOURCE = String.raw`
import { pathToFileURL } from 'node:url';
import { createInterface } from 'node:readline';
const cfg = JSON.parse(process.env.OMNICAP_LOCAL_LLM_CONFIG);
const send = (o) => process.stdout.write(JSON.stringify(o) + '\n');
let ready;
try {
  const { getLlama, LlamaChatSession } = await import(pathToFileURL(cfg.moduleEntry).href);
  const llama = await getLlama({ gpu: false, build: 'never', logLevel: 'error' });
  const model = await llama.loadModel({ modelPath: cfg.modelPath });
  const ctx = await model.createContext({ contextSize: cfg.contextSize, threads: cfg.threads });
  const grammar = cfg.jsonSchema ? await llama.createGrammarForJsonSchema(cfg.jsonSchema) : await llama.getGrammarFor('json');
  ready = { llama, LlamaChatSession, model, seq: ctx.getSequence(), grammar, grammars: new Map() };
  send({ type: 'ready' });
} catch (e) {
  send({ type: 'fatal', message: String(e && e.message || e) });
  process.exit(1);
}
let chain = Promise.resolve();
async function handle(req) {
  const { llama, LlamaChatSession, model, seq, grammar, grammars } = ready;
  try {
    await seq.clearHistory();
    const msgs = req.messages;
    const last = msgs[msgs.length - 1];
    const system = msgs.filter((m) => m.role === 'system').map((m) => m.content).join('\n\n');
    const history = [];
    if (system) history.push({ type: 'system', text: system });
    for (const m of msgs.slice(0, -1)) {
      if (m.role === 'user') history.push({ type: 'user', text: m.content });
      else if (m.role === 'assistant') history.push({ type: 'model', response: [m.content] });
    }
    const session = new LlamaChatSession({ contextSequence: seq, autoDisposeSequence: false });
    session.setChatHistory(history);
    const o = req.options || {};
    let g = o.json ? grammar : undefined;
    if (o.jsonSchema) {
      const key = JSON.stringify(o.jsonSchema);
      g = grammars.get(key);
      if (!g) {
        g = await llama.createGrammarForJsonSchema(o.jsonSchema);
        if (grammars.size >= 64) grammars.delete(grammars.keys().next().value);
        grammars.set(key, g);
      }
    }
    const text = await session.prompt(last.content, {
      grammar: g,
      maxTokens: o.maxTokens ?? 256,
      temperature: o.temperature ?? 0,
      topP: o.topP,
      seed: o.seed,
    });
    const promptTokens = model.tokenize(msgs.map((m) => m.content).join('\n')).length;
    const completionTokens = model.tokenize(text).length;
    session.dispose({ disposeSequence: false });
    send({ type: 'result', id: req.id, text, promptTokens, completionTokens });
  } catch (e) {
    send({ type: 'error', id: req.id, message: String(e && e.message || e) });
  }
}
createInterface({ input: process.stdin }).on('line', (line) => {
  const req = JSON.parse(line);
  chain = chain.then(() => handle(req));
}).on('close', () => process.exit(0));
`;
