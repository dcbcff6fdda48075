// The list of subcommands, in the order `hemaclust --help` shows them.
import type { Command } from '../command.js';
import { info } from './info.js';
import { simulate } from './simulate.js';
import { cluster } from './cluster.js';
import { embed } from './embed.js';
import { predict } from './predict.js';
import { train } from './train.js';
import { classify } from './classify.js';
import { evaluate } from './evaluate.js';
import { exportCmd } from './export.js';
import { demo } from './demo.js';
import { serve } from './serve.js';

export const commands: Command[] = [info, simulate, cluster, embed, predict, train, classify, evaluate, exportCmd, demo, serve];
