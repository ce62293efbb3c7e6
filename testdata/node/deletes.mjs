// Parallel delete_session calls with progress through the official TypeScript SDK over stdio
// (issue 10, defect 5): the SDK reports "Received a progress notification for an unknown token"
// through onerror when a notification arrives after, or in the same read as, its call's answer.
// Usage: node deletes.mjs TROUPE_BINARY DATA_DIR N
// Prints one JSON line: {"errors": [...], "deleted": n, "failed": [...], "progress": n}.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';

const [bin, dataDir, nArg] = process.argv.slice(2);
const n = Number(nArg || 50);
const transport = new StdioClientTransport({
  command: bin,
  args: ['serve'],
  env: { ...process.env, TROUPE_DATA_DIR: dataDir, TROUPE_LOG_LEVEL: 'warn' },
  stderr: 'ignore',
});
const client = new Client({ name: 'troupe-tssdk-test', version: '1.0.0' });
const errors = [];
client.onerror = (e) => errors.push(String(e?.message ?? e));
await client.connect(transport);

const call = async (name, args, options) => {
  const r = await client.callTool({ name, arguments: args }, undefined, options);
  if (r.isError) throw new Error(`${name} ${JSON.stringify(args)}: ${JSON.stringify(r.content)}`);
  return r;
};
const ids = Array.from({ length: n }, (_, i) => `ts${i}`);
await Promise.all(ids.map(async (id) => {
  await call('create_session', { session_id: id });
  await call('create_agent', { session_id: id, name: 'a', preset: 'cat' });
  await call('create_agent', { session_id: id, name: 'b', preset: 'cat' });
}));

let progress = 0;
const failed = [];
let deleted = 0;
await Promise.all(ids.map(async (id) => {
  try {
    await call('delete_session', { session_id: id }, { onprogress: () => { progress++; }, timeout: 120000 });
    deleted++;
  } catch (e) {
    failed.push(String(e?.message ?? e));
  }
}));
await client.close();
console.log(JSON.stringify({ errors, deleted, failed, progress }));
