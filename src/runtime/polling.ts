/**
 * Long polling that never waits for a handler. Each batch from getUpdates goes
 * into the inbox (durable with Redis) and only then is confirmed, by asking for
 * the next batch with a higher offset. Handling happens elsewhere (the inbox's
 * sequencer), so one slow chat cannot stop the fetching, and a crash between
 * fetch and confirmation only makes Telegram deliver the batch again, which the
 * update dedup drops.
 */
import { GrammyError, type Api } from 'grammy';
import type { UpdateInbox } from './inbox.js';

export interface PollingOptions {
  /** Seconds Telegram holds an empty getUpdates open. */
  timeoutSeconds?: number;
  /** Transient failures (network, 5xx, Redis away while recording): logged, tried again after a pause. */
  onProblem?: (error: Error) => void;
  /** Telegram refused for good (401 token revoked, 409 another instance polls with this token). */
  onFatal?: (error: Error) => void;
  /** Pause after a transient failure. */
  retryMs?: number;
  /** Sees each batch as it is being recorded (to tell the family when Redis is slow: pause-notice.ts). */
  onRecording?: (updates: Parameters<UpdateInbox['append']>[0], recording: Promise<unknown>) => void;
}

export class LongPolling {
  private offset = 0;
  private running = false;
  private abort: AbortController | undefined;
  private loop: Promise<void> | undefined;
  /** Batches fetched (for tests and /metrics). */
  batches = 0;

  constructor(
    private readonly api: Api,
    private readonly inbox: UpdateInbox,
    private readonly options: PollingOptions = {},
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** Stops fetching and confirms what was recorded, so Telegram does not hand it out again. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.abort?.abort();
    await this.loop;
    if (this.offset > 0) {
      // Confirms every update below the offset; the one this returns is not confirmed and comes again.
      await this.api.getUpdates({ offset: this.offset, limit: 1, timeout: 0 }).catch(() => undefined);
    }
  }

  private async run(): Promise<void> {
    while (this.running) {
      this.abort = new AbortController();
      try {
        const updates = await this.api.getUpdates({ offset: this.offset, timeout: this.options.timeoutSeconds ?? 30 }, this.abort.signal as Parameters<Api['getUpdates']>[1]);
        this.batches++;
        if (updates.length === 0) continue;
        await this.record(updates);
        this.offset = updates[updates.length - 1]!.update_id + 1;
      } catch (error) {
        if (!this.running) break; // aborted by stop()
        if (error instanceof GrammyError && (error.error_code === 401 || error.error_code === 409)) {
          this.running = false;
          this.options.onFatal?.(error);
          break;
        }
        this.options.onProblem?.(error instanceof Error ? error : new Error(String(error)));
        await pause(this.options.retryMs ?? 1000);
      }
    }
  }

  /** Until recorded: the offset moves only past updates the inbox holds. */
  private async record(updates: Parameters<UpdateInbox['append']>[0]): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        const recording = this.inbox.append(updates);
        if (attempt === 0) this.options.onRecording?.(updates, recording);
        await recording;
        return;
      } catch (error) {
        this.options.onProblem?.(error instanceof Error ? error : new Error(String(error)));
        // Stopping with the batch unrecorded is fine: unconfirmed, Telegram hands it out again.
        if (!this.running) throw error;
        await pause(this.options.retryMs ?? 1000);
      }
    }
  }
}

const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
