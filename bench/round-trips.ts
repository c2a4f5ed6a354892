/**
 * Counts the commands one node-redis client sends, through node-redis's own
 * diagnostics channel (no MONITOR, no wrapper around the client): every command
 * and every script call of that client, by name. A script that Redis had not
 * loaded yet costs two (EVALSHA → NOSCRIPT → EVAL): warm up first.
 */
import { tracingChannel } from 'node:diagnostics_channel';

interface CommandStart {
  command?: string;
  args?: string[];
  clientId?: string;
}

export class CommandCounter {
  readonly byCommand = new Map<string, number>();
  private count = 0;
  private readonly channel = tracingChannel<unknown, CommandStart>('node-redis:command');
  private readonly handlers = {
    start: (message: CommandStart) => {
      if (message.clientId !== this.clientId) return;
      this.count++;
      const name = message.command === 'EVALSHA' || message.command === 'EVAL' ? `${message.command} ${String(message.args?.[1] ?? '').slice(0, 8)}` : String(message.command);
      this.byCommand.set(name, (this.byCommand.get(name) ?? 0) + 1);
    },
    end: () => undefined,
    asyncStart: () => undefined,
    asyncEnd: () => undefined,
    error: () => undefined,
  };

  constructor(private readonly clientId: string) {
    this.channel.subscribe(this.handlers);
  }

  /** The client's id as node-redis reports it in its trace events. */
  static of(client: object): CommandCounter {
    const id = (client as { _clientId?: string })._clientId;
    if (id === undefined) throw new Error('this node-redis client reports no _clientId');
    return new CommandCounter(id);
  }

  get total(): number {
    return this.count;
  }

  reset(): void {
    this.count = 0;
    this.byCommand.clear();
  }

  stop(): void {
    this.channel.unsubscribe(this.handlers);
  }
}
