/**
 * The reference Omni-Detective client (github ddlBoJack/Omni-Captioner, Omni-Detective/main.py,
 * agent_lib.py, tool_lib.py) against ONE omnicap server: the same HTTP requests, written anew in
 * TypeScript. Only the base URL, the key and the model names differ from the reference; the
 * number of inquiries is lowered from 10 to keep the test short (it changes no request shape).
 *
 * What the reference sends, and what this client sends the same way:
 * - every request: POST {base}/chat/completions, `Content-Type: application/json`,
 *   `Authorization: <key>` (a bare key, no "Bearer ");
 * - the agent: `{model, messages}` only (no temperature, no max_tokens), text-only messages: a
 *   system prompt, then the history of user prompts and the agent's JSON replies;
 * - the observer (LALM): `{model, messages: [{role:'user', content: [{type:'input_audio',
 *   input_audio:{data: <the item's URL>, format:'wav'}}, {type:'text', text:'Question: ...'}]}],
 *   modalities: ['text']}`: the audio is a URL, not base64;
 * - replies: `choices[0].message.content.strip()`; the agent's is parsed as JSON after removing
 *   markdown fences and must be {tool_name in the tool list, question: non-empty string}; any
 *   failure is retried (the reference allows 1000 attempts, 0.1 s apart);
 * - output: the input item plus `omni_detective_trajectory` = the history (system, user/assistant
 *   pairs, last the final prompt and the JSON-encoded caption); items already in the output are skipped.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Captioner } from '../../src/engine/types';
import { LocalChatModel } from '../../src/llm/local';
import type { ChatModel } from '../../src/llm/types';
import { packageRoot } from '../../src/util/paths';
import { ALSA_FRONT, SPEECH_3S, loadTiny, start, wavBytes, type Started } from './helpers';

const INSTRUCT_GGUF = join(packageRoot(), 'models', 'cache', 'qwen2.5-coder-1.5b-instruct', 'qwen2.5-coder-1.5b-instruct-q4_k_m.gguf');
const KEY = 'reference-key';
const MAX_CALLS = 1;
const MAX_API_RETRY = 20; // the reference allows 1000; a healthy server needs few

interface Api {
  url: string;
  headers: Record<string, string>;
}
type Msg = { role: string; content: unknown };
const tools = [{ tool_name: 'LALM', description: 'get the answer from an audio clip and a question' }];
/** Python's json.dumps(v, ensure_ascii=False) layout (", " and ": " separators). */
function pyJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(pyJson).join(', ')}]`;
  if (typeof v === 'object' && v !== null) return `{${Object.entries(v).map(([k, x]) => `${JSON.stringify(k)}: ${pyJson(x)}`).join(', ')}}`;
  return JSON.stringify(v);
}

// Prompts in the reference's structure (system prompt with the tool list and the JSON turn format;
// per-turn "Observation / Inquiries remaining / Tool and Question"; a final prompt).
const systemPrompt = (maxCalls: number): string =>
  [
    'You are an audio detective who cannot hear the clip. You question observers who listened to it, then write a detailed description of the clip.',
    `You have ${maxCalls} inquiries and the tools ${pyJson(tools)}.`,
    'Each turn, pick one tool and ask one question. Reply with JSON only:',
    '```json\n{\n  "tool_name": "<tool_name_from_tool_list>",\n  "question": "<your_question_text>"\n}\n```',
    'When no inquiries remain, write the final description of the audio.',
  ].join('\n');
const firstPrompt = (left: number): string => `The investigation has started. Please give the first question.\nInquiries remaining: ${left} \nTool and Question:`;
const turnPrompt = (obs: string, left: number): string => `Observation: ${obs}\nInquiries remaining: ${left} \nTool and Question:`;
const finalPrompt = (obs: string): string => `Observation: ${obs}\nThe investigation is complete. Please give the detailed description of the audio clip. `;

const counters = { agentAttempts: 0, observerAttempts: 0, failures: [] as string[] };

async function postWithRetry(api: Api, payload: unknown, accept: (content: string) => unknown): Promise<unknown> {
  for (let i = 0; i < MAX_API_RETRY; i++) {
    try {
      const t0 = Date.now();
      const res = await fetch(api.url, { method: 'POST', headers: api.headers, body: JSON.stringify(payload) });
      const text = await res.text();
      if (process.env.REF_DEBUG === '1') process.stderr.write(`[${Date.now() - t0} ms] ${res.status} ${text.slice(0, 300)}\n`);
      if (!res.ok) throw new Error(`HTTP ${res.status}: ${text}`);
      const content = ((JSON.parse(text) as { choices: Array<{ message: { content: string } }> }).choices[0].message.content).trim();
      const accepted = accept(content);
      if (accepted !== undefined) return accepted;
      throw new Error(`format check failed: ${content.slice(0, 200)}`);
    } catch (e) {
      counters.failures.push(String(e));
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return null;
}

async function lalm(api: Api, url: string, question: string, model: string): Promise<unknown> {
  counters.observerAttempts++;
  const payload = {
    model,
    messages: [{ role: 'user', content: [{ type: 'input_audio', input_audio: { data: url, format: 'wav' } }, { type: 'text', text: `Question: ${question}` }] }],
    modalities: ['text'],
  };
  return postWithRetry(api, payload, (c) => c);
}

function checkAgentFormat(v: unknown): v is { tool_name: string; question: string } {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const o = v as Record<string, unknown>;
  return tools.some((t) => t.tool_name === o.tool_name) && typeof o.question === 'string' && o.question.trim() !== '';
}

async function runAgent(api: Api, agentModel: string, observerModel: string, url: string): Promise<Msg[]> {
  const history: Msg[] = [{ role: 'system', content: systemPrompt(MAX_CALLS) }];
  const callAgent = (prompt: string, check: boolean): Promise<unknown> => {
    counters.agentAttempts++;
    return postWithRetry(api, { model: agentModel, messages: [...history, { role: 'user', content: prompt }] }, (content) => {
      if (!check) return content;
      const parsed: unknown = JSON.parse(content.replace(/```json/g, '').replace(/```/g, '').trim());
      return checkAgentFormat(parsed) ? parsed : undefined;
    });
  };
  let left = MAX_CALLS;
  let observation: unknown = '';
  while (left > 0) {
    const prompt = left === MAX_CALLS ? firstPrompt(left) : turnPrompt(String(observation), left);
    const reply = (await callAgent(prompt, true)) as { tool_name: string; question: string };
    observation = await lalm(api, url, reply.question, observerModel);
    left--;
    history.push({ role: 'user', content: prompt }, { role: 'assistant', content: pyJson(reply) });
  }
  const prompt = finalPrompt(String(observation));
  const caption = await callAgent(prompt, false);
  history.push({ role: 'user', content: prompt }, { role: 'assistant', content: JSON.stringify(caption) });
  return history;
}

/** main.py: skip ids already in the output, run each remaining item, append item + trajectory. */
async function runMain(api: Api, inputPath: string, outputPath: string, agentModel: string, observerModel: string): Promise<void> {
  const done = existsSync(outputPath) ? readFileSync(outputPath, 'utf8').trim().split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { id: unknown }).id) : [];
  const lines = readFileSync(inputPath, 'utf8').trim().split('\n').filter((l) => !done.includes((JSON.parse(l) as { id: unknown }).id));
  for (const line of lines) {
    const item = JSON.parse(line) as Record<string, unknown>;
    item.omni_detective_trajectory = await runAgent(api, agentModel, observerModel, String(item.url));
    writeFileSync(outputPath, `${JSON.stringify(item)}\n`, { flag: 'a' });
  }
}

const haveModel = existsSync(INSTRUCT_GGUF);
const maybe = haveModel ? describe : describe.skip;

maybe('the reference Omni-Detective client against one omnicap server', () => {
  let captioner: Captioner;
  let llm: ChatModel;
  let s: Started;
  let media: Server;
  let mediaUrl: string;

  beforeAll(async () => {
    [captioner, llm] = await Promise.all([loadTiny(), LocalChatModel.load({ modelPath: INSTRUCT_GGUF, id: 'qwen2.5-coder-1.5b-instruct', threads: 2 })]);
    // remote URLs on (the reference's items are https URLs), served here by a loopback media host
    s = await start({ captioner, llm, apiKeys: [KEY], allowRemoteUrls: true, mediaRoots: [dirname(SPEECH_3S)], llmMaxTokens: 48, defaultMaxTokens: 24 });
    media = createHttpServer((req, res) => {
      if (req.url === '/captioner-case1.wav') res.end(wavBytes(ALSA_FRONT));
      else res.writeHead(404).end();
    });
    await new Promise<void>((r) => media.listen(0, '127.0.0.1', () => r()));
    mediaUrl = `http://127.0.0.1:${(media.address() as AddressInfo).port}`;
  }, 180_000);

  afterAll(async () => {
    await s?.server.close();
    await captioner?.dispose();
    await llm?.dispose();
    await new Promise<void>((r) => (media ? media.close(() => r()) : r()));
  });

  it('runs main.py end to end: every item gets a trajectory; the audio URL and bare key are accepted', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ref-det-'));
    const input = join(dir, 'input.jsonl');
    const output = join(dir, 'output.jsonl');
    // one item per URL form the reference relies on (its input.jsonl has https URLs); 1.5B agent calls are slow on 2 cores
    writeFileSync(input, `${JSON.stringify({ id: 1, url: `${mediaUrl}/captioner-case1.wav` })}\n`);
    const api: Api = { url: `${s.url}/v1/chat/completions`, headers: { 'Content-Type': 'application/json', Authorization: KEY } };
    await runMain(api, input, output, llm.id, captioner.modelId);
    const rows = readFileSync(output, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { id: unknown; url: string; omni_detective_trajectory: Msg[] });
    expect(rows.map((r) => r.id)).toEqual([1]); // ids keep their JSON type
    for (const r of rows) {
      const t = r.omni_detective_trajectory;
      expect(t.map((m) => m.role)).toEqual(['system', ...Array.from({ length: MAX_CALLS + 1 }, () => ['user', 'assistant']).flat()]);
      for (let i = 2; i < t.length - 1; i += 2) expect(checkAgentFormat(JSON.parse(String(t[i].content)))).toBe(true);
      // observations came from the captioner (an observation in every later prompt), the caption from the LLM
      for (let i = 3; i < t.length; i += 2) expect(String(t[i].content)).toMatch(/^Observation: \S/);
      const caption: unknown = JSON.parse(String(t[t.length - 1].content));
      expect(typeof caption === 'string' && caption.length > 0).toBe(true);
    }
    // no HTTP failures at all; only format re-asks of the agent are retries
    expect(counters.failures.filter((f) => f.startsWith('Error: HTTP'))).toEqual([]);
    expect(counters.observerAttempts).toBe(MAX_CALLS);
    expect(counters.agentAttempts).toBe(MAX_CALLS + 1);
    // resume: a second run skips the id and sends nothing
    await runMain(api, input, output, llm.id, captioner.modelId);
    expect(readFileSync(output, 'utf8').trim().split('\n')).toHaveLength(1);
    expect(counters.agentAttempts).toBe(MAX_CALLS + 1);
  }, 600_000);
});
