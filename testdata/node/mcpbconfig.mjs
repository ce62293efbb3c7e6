// What Claude Desktop runs for an installed MCP bundle: the official loader's
// getMcpConfigForManifest (@anthropic-ai/mcpb) applied to the bundle's manifest, the directory it
// was unpacked in and the user's settings.
// Usage: node mcpbconfig.mjs MANIFEST BUNDLE_DIR USER_CONFIG_JSON
// Prints {"command": "...", "args": [...]} as one JSON line.
import { readFileSync } from 'node:fs';
import { getMcpConfigForManifest } from '@anthropic-ai/mcpb';

const [manifestPath, bundleDir, userConfig] = process.argv.slice(2);
const config = await getMcpConfigForManifest({
  manifest: JSON.parse(readFileSync(manifestPath, 'utf8')),
  extensionPath: bundleDir,
  systemDirs: { HOME: process.env.HOME },
  userConfig: JSON.parse(userConfig),
  pathSeparator: '/',
});
if (!config) {
  console.error('mcpbconfig: the loader gave no configuration (a required setting missing?)');
  process.exit(1);
}
console.log(JSON.stringify({ command: config.command, args: config.args }));
