/**
 * Option builders the commands share, so that every help text lists an option's choices and the
 * environment variable it falls back to. `.choices()` makes commander refuse anything else (exit 2).
 * Variables the command itself reads (with its own precedence, e.g. RAYTS_ADDRESS after
 * RAYTS_API_SERVER_ADDRESS) are named in the help as commander's `.env()` names them, without
 * letting commander fill the option from them.
 */
import { Option } from 'commander';

/** `(env: A, B)`, as commander prints an option's `.env()`. */
export function envNote(...names: string[]): string {
  return `(env: ${names.join(', ')})`;
}

/** An option whose value must be one of `choices`. */
export function choiceOption(flags: string, description: string, choices: readonly string[], defaultValue?: string): Option {
  const option = new Option(flags, description).choices(choices);
  return defaultValue === undefined ? option : option.default(defaultValue);
}

/** An option the command falls back to environment variables for (named in the help). */
export function envOption(flags: string, description: string, ...envNames: string[]): Option {
  return new Option(flags, `${description} ${envNote(...envNames)}`);
}

/** --address and --token-file of a command that reads a running cluster through its GCS. */
export function gcsTargetOptions(): Option[] {
  return [
    envOption('--address <host:port>', 'head address, or auto: the cluster this host runs (default: this host\'s session)', 'RAYTS_ADDRESS'),
    new Option('--temp-dir <dir>', 'find the local session under this temp dir'),
    envOption('--token-file <file>', 'cluster token file (default: the local session\'s)', 'RAYTS_TOKEN', 'RAYTS_TOKEN_FILE'),
  ];
}
