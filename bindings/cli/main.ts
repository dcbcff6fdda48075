// hemaclust command-line entry. Each subcommand lives in commands/<name>.ts and exports a
// `Command`; this file only dispatches, so adding a command never touches another one.
import { commands } from './commands/index.js';
import { UsageError } from './command.js';

// Re-exported for callers that imported them from here before they moved to command.ts.
export { UsageError, type Command } from './command.js';

function help(): string {
  const w = Math.max(...commands.map((c) => c.name.length));
  return [
    'hemaclust — deep clustering of blood cells (reference | wasm | webgpu backends)',
    '',
    'usage: hemaclust <command> [options]   (hemaclust <command> --help for details)',
    '',
    ...commands.map((c) => `  ${c.name.padEnd(w)}  ${c.summary}`),
  ].join('\n');
}

export async function run(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(help());
    return name ? 0 : 1;
  }
  const cmd = commands.find((c) => c.name === name);
  if (!cmd) {
    console.error(`hemaclust: unknown command '${name}'\n\n${help()}`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(`${cmd.summary}\n\nusage: ${cmd.usage}`);
    return 0;
  }
  try {
    return await cmd.run(rest);
  } catch (e) {
    const err = e as Error;
    if (err instanceof UsageError) {
      console.error(`hemaclust ${name}: ${err.message}\nusage: ${cmd.usage}`);
      return 2;
    }
    console.error(`hemaclust ${name}: ${err.message ?? err}`);
    if (process.env.HEMACLUST_DEBUG) console.error(err.stack);
    return 1;
  }
}
