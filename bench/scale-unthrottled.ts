/**
 * Preloaded into the scale bench's bot processes (`node --import tsx --import
 * bench/scale-unthrottled.ts src/main.ts`): lifts the pace the bot keeps for
 * Telegram (src/runtime/telegram-pace.ts: 30 calls a second in all, 100 ms
 * between calls to one chat), which is per process and otherwise the only thing
 * measured: one process tops out at ~15 presses a second whatever its CPU does.
 * The pacer stays in the path, so its own cost is still paid.
 * SCALE_TELEGRAM_LIMITS=on runs the bench without this preload.
 */
import { PACE } from '../src/runtime/telegram-limits.js';

// Same module instance as main.ts's (one URL), changed before main.ts calls useTelegramLimits.
Object.assign(PACE, { perSecond: Infinity, privateGapMs: 0 });
