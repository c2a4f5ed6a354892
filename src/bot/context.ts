/** The grammY context of this bot: session, language and the services every handler needs. */
import type { Context, SessionFlavor, StorageAdapter } from 'grammy';
import type { Catalogue, Lang } from '../engine/types.js';
import type { T, Translator } from '../i18n/i18n.js';
import type { Logger } from '../log.js';
import type { DialogHost } from '../runtime/dialog-host.js';
import type { DangerCues } from '../safety/cues.js';
import type { ChatLock } from '../store/chat-lock.js';
import type { ChatClaims, UpdateDedup } from '../store/update-dedup.js';
import type { WorkingHours } from '../handoff/hours.js';
import type { HandoffConfig, HandoffService } from '../handoff/service.js';
import type { HandoffStore } from '../handoff/store.js';
import type { ScreenRenderer } from './screens.js';
import type { ReferralDelivery } from '../referral/delivery.js';
import type { ReferralService } from '../referral/service.js';
import type { ReferralStore } from '../referral/store.js';
import type { Directory, ReferralPacket } from '../referral/types.js';

/** Per-chat preferences. No answers live here: they are in the dialog snapshot. */
export interface SessionData {
  lang?: Lang;
  /** When the family agreed to the processing of their answers (epoch ms). */
  consentAt?: number;
  /** Where the family came from (a deep-link payload such as a school's QR code). */
  source?: string;
  /** A region from a deep link (t.me/bot?start=r-astana), added to the answers once the family consents. */
  startRegion?: string;
  /** The last message that carried buttons, so its keyboard can be removed when a new screen comes. */
  lastKeyboardMessageId?: number;
  /** The family had a saved screening: if it is gone, it expired and they are told. */
  hadDialog?: boolean;
  /** Out of hours, the family chose a call back: the next message may be their phone number. */
  awaitingPhone?: boolean;
  /** A request to a social worker being put together (src/bot/referral-family.ts); nothing leaves the chat until the family agrees. */
  referralDraft?: ReferralDraft;
  /** A linked worker's next message is a typed visit date or a message for a family (src/bot/workers.ts). */
  workerAwait?: { kind: 'date' | 'write'; referralId: string; messageId?: number; at: number };
  /** The family pressed "Reply to the social worker": their next text goes to the worker who holds that referral. */
  referralReply?: { referralId: string; at: number };
}

export interface ReferralDraft {
  /** When it was started (epoch ms): an old draft is dropped, with the phone number in it. */
  at: number;
  region?: string;
  contact?: ReferralPacket['contact'];
  contactTime?: ReferralPacket['contactTime'];
  /** The family was shown the contact button: their next contact message is their phone number. */
  awaitingContact?: boolean;
}

export interface BotDeps {
  catalogue: Catalogue;
  translator: Translator;
  host: DialogHost;
  renderer: ScreenRenderer;
  sessions: StorageAdapter<SessionData>;
  lock: ChatLock;
  /** Once per update; it takes the chat lock (`lock`) together with the update's claim. */
  updates: UpdateDedup;
  /** The update each chat is handling, so that writes of its dialog and session count as that update acting. */
  claims: ChatClaims;
  cues: DangerCues;
  log: Logger;
  today: () => string;
  logSalt: string;
  /** How long answers are kept, for what the family is told. */
  dialogTtlDays: number;
  /** The live hotline handoff, when an operators' group is configured: createBot builds it on the bot's Api. */
  handoffSetup?: HandoffSetup;
  handoff?: HandoffFamilyDeps;
  /** Referrals to social workers, when configured (src/app.ts builds the service; createBot the delivery). */
  referrals?: ReferralBotDeps;
}

export interface ReferralBotDeps {
  service: ReferralService;
  store: ReferralStore;
  /** Reads the directory files again (an admin's /directory reload); throws DirectoryError naming file and entry. */
  loadDirectory: () => Directory;
  /** This process's name in the notices' consumer group. */
  consumer: string;
  /** Days a closed referral keeps the packet, as the family is told before they agree. */
  keptDays: number;
  /** Delivers the notices to Telegram; createBot builds it on the bot's Api. */
  delivery?: ReferralDelivery;
}

export interface HandoffSetup {
  store: HandoffStore;
  config: HandoffConfig;
  minutesPerCase: number;
  adminIds: number[];
  /** The handoff's clock (epoch ms); tests pass a fake one to drive SLA and opening timers. */
  now?: () => number;
}

export interface HandoffFamilyDeps {
  service: HandoffService;
  hours: WorkingHours;
  /** Rough minutes one operator spends on a case, for the family's wait estimate. */
  minutesPerCase: number;
  /** The operators' forum supergroup, and who may administer it. */
  groupId: number;
  adminIds: number[];
  supervisorIds: number[];
}

export type BotContext = Context &
  SessionFlavor<SessionData> & {
    lang: Lang;
    t: T;
    deps: BotDeps;
    /** Salted hash of the chat id, the only chat reference in logs. */
    chatRef: string;
  };
