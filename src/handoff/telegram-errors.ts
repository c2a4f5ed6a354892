/** How the handoff tells Telegram's refusals apart: each calls for a different repair. */
import { GrammyError } from 'grammy';

/** Telegram's answer when a forum topic no longer exists. */
export const isTopicGone = (e: unknown) => e instanceof GrammyError && /thread not found|TOPIC_DELETED|TOPIC_ID_INVALID|TOPIC_CLOSED/i.test(e.description);
/** Telegram's answer when the family blocked the bot or deleted their account. */
export const isFamilyGone = (e: unknown) => e instanceof GrammyError && e.error_code === 403;
/** A 400 Telegram will give every time (a service message cannot be copied), as opposed to a limit or an outage. */
export const isNeverCopyable = (e: unknown) => e instanceof GrammyError && e.error_code === 400 && !/too many requests/i.test(e.description);
