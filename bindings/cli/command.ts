// The contract between the dispatcher (main.ts) and each subcommand (commands/<name>.ts). It lives
// in its own module so the commands and the dispatcher both depend on it and never on each other.

export interface Command {
  name: string;
  summary: string;
  usage: string;
  /** Returns the process exit code. argv excludes the command name. */
  run(argv: string[]): Promise<number>;
}

/** A mistake in the command line: main.ts prints it with the command's usage and exits with 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}
