/**
 * Alerts to staff that must not be missed: an urgent case, danger words in a
 * case, a transfer, an SLA breach. Most mention people (HTML links to
 * tg://user), so Telegram notifies them even in a muted group.
 */
import type { HandoffParts } from './deps.js';
import type { CaseRecord } from './types.js';

/**
 * One urgent announcement per family in this window: it mentions every
 * operator, and a family opening and cancelling urgent cases must not ping them
 * all each time. Later urgent cases still go to the front of the line with a 🔴 topic.
 */
export const URGENT_ANNOUNCEMENT_WINDOW_MS = 10 * 60_000;

/** A mention of a Telegram user by id (HTML parse mode); the label is what the group reads. */
export const mention = (userId: number, label: string | number) => `<a href="tg://user?id=${userId}">${label}</a>`;

export class StaffAlerts {
  constructor(private readonly deps: HandoffParts) {}

  /** A new urgent case: every operator who may take it is mentioned, at most once per family in the window. */
  async urgent(rec: CaseRecord): Promise<void> {
    if (rec.chatId === undefined || !(await this.deps.store.claimAnnouncement(rec.chatId, this.deps.now(), URGENT_ANNOUNCEMENT_WINDOW_MS))) {
      this.deps.log.info({ case: rec.id }, 'urgent announcement held back: this family had one in the last 10 minutes');
      return;
    }
    // Everyone who may take it: configured operators and those an admin granted at run time.
    const operators = [...new Set([...this.deps.config.operatorIds, ...(await this.deps.store.granted('operator'))])];
    const t = this.deps.translator.bind(this.deps.config.staffLang);
    const mentions = operators.map((id, i) => mention(id, t('ops:mention', { n: i + 1 }))).join(' ');
    const text = t('ops:urgentAnnouncement', { id: rec.id, mentions });
    await this.deps.api.sendMessage(this.deps.config.groupId, text, { parse_mode: 'HTML' }).catch(() => undefined);
  }

  /** Danger words in an open case: the holder is alerted in its topic, or the supervisors when nobody holds it. */
  async danger(rec: CaseRecord, updated: CaseRecord, kind: string): Promise<void> {
    const t = this.deps.translator.bind(this.deps.config.staffLang);
    const holder = updated.status === 'claimed' ? updated.operatorId : undefined;
    const who = holder ? [holder] : this.deps.config.supervisorIds;
    const mentions = who.map((id) => mention(id, t(holder ? 'ops:holder' : 'ops:supervisor'))).join(' ');
    const text = t('ops:dangerInCase', { id: rec.id, kind: t(`ops:dangerKind.${kind}`), mentions });
    await this.deps.api
      .sendMessage(this.deps.config.groupId, text, { parse_mode: 'HTML', ...(updated.topicId ? { message_thread_id: updated.topicId } : {}) })
      .catch(() => this.deps.log.warn({ case: rec.id }, 'could not post the danger alert'));
  }

  /** The receiving operator is mentioned in the topic, so the case does not sit unnoticed. */
  async transferred(rec: CaseRecord, to: number): Promise<void> {
    if (!rec.topicId) return;
    const text = this.deps.translator.t(this.deps.config.staffLang, 'ops:transferredTo', { id: rec.id, mention: mention(to, to) });
    await this.deps.api.sendMessage(this.deps.config.groupId, text, { message_thread_id: rec.topicId, parse_mode: 'HTML' }).catch(() => undefined);
  }

  /** An SLA clock ran out: a line in the topic, and each supervisor is told directly. */
  async slaBreach(rec: CaseRecord, kind: string): Promise<void> {
    const t = this.deps.translator.bind(this.deps.config.staffLang);
    const text = t(`ops:slaBreach.${kind}`, { id: rec.id });
    if (rec.topicId) await this.deps.api.sendMessage(this.deps.config.groupId, text, { message_thread_id: rec.topicId }).catch(() => undefined);
    for (const supervisor of this.deps.config.supervisorIds) {
      await this.deps.api.sendMessage(supervisor, text).catch(() => undefined);
    }
  }
}
