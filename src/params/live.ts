/**
 * Keeps a catalogue's parameters current in a running process: the files' values with
 * the store's laid over them (src/engine/params.ts overlayParams). Each process checks
 * the store's version on a timer and reads the values only when it moved, so a value an
 * admin sets in one process is used by every process within one period, with no restart.
 */
import { overlayParams } from '../engine/params.js';
import type { Catalogue, Params } from '../engine/types.js';
import { asParams, type ParamsStore } from './store.js';

/** How often a process checks for changes: well within the minute an admin is promised. */
export const REFRESH_EVERY_MS = 20_000;

export class LiveParams {
  /** The files' values (parameters.yaml and PARAMS_FILE), as loaded. */
  readonly fromFiles: Params;
  private seenVersion: number | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly catalogue: Catalogue,
    readonly store: ParamsStore,
    private readonly onError: (error: Error) => void = () => undefined,
  ) {
    this.fromFiles = catalogue.params;
  }

  /**
   * Reads the store if it changed since the last look, and swaps the catalogue's parameters.
   * The engine reads `catalogue.params` on every evaluation, so the next result uses them.
   * Returns whether anything was read.
   */
  async refresh(): Promise<boolean> {
    // The version first: a write between the two reads only means reading once more next time.
    const version = await this.store.version();
    if (version === this.seenVersion) return false;
    this.catalogue.params = overlayParams(this.fromFiles, asParams(await this.store.values()));
    this.seenVersion = version;
    return true;
  }

  /** Checks now and then every `everyMs` until stop(); a failed check (Redis away) is reported and tried again next time. */
  start(everyMs = REFRESH_EVERY_MS): void {
    this.stop();
    const check = () => void this.refresh().catch((e: Error) => this.onError(e));
    check();
    this.timer = setInterval(check, everyMs);
    this.timer.unref();
  }

  /** Whether the timer of start() is running. */
  get watching(): boolean {
    return this.timer !== undefined;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
