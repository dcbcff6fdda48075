// The list of subcommands, in the order `hemaclust --help` shows them.
import type { Command } from '../main.js';
import { info } from './info.js';
import { simulate } from './simulate.js';

export const commands: Command[] = [info, simulate];
