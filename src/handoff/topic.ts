/**
 * A case's forum topic in the operators' group: creating it with the case
 * card, keeping the card and the topic name current, a line from the bot in
 * it, and removing the family's messages from it.
 */
import { GrammyError } from 'grammy';
import { caseCard, caseCardKeyboard, topicName } from './card.js';
import type { HandoffParts } from './deps.js';
import type { CaseRecord } from './types.js';

export class CaseTopic {
  /** Topic creation is throttled: Telegram allows about 20 messages a minute in a group. */
  private topicQueue: Promise<unknown> = Promise.resolve();

  constructor(private readonly deps: HandoffParts) {}

  /** Creates the case topic and posts the card; returns the topic id. Throttled, one at a time. */
  postCard(rec: CaseRecord): Promise<number> {
    const run = this.topicQueue.then(async () => {
      const t = this.deps.translator.bind(this.deps.config.staffLang);
      const topic = await this.deps.api.createForumTopic(this.deps.config.groupId, topicName(rec), { icon_color: rec.urgent ? 0xff93b2 : 0x6fb9f0 });
      const card = await this.deps.api.sendMessage(this.deps.config.groupId, caseCard(rec, t, this.deps.now()), {
        message_thread_id: topic.message_thread_id,
        reply_markup: caseCardKeyboard(rec, t, { refer: this.deps.config.referrals }),
      });
      await this.deps.store.setFields(rec.id, { topicId: topic.message_thread_id, cardMessageId: card.message_id });
      return topic.message_thread_id;
    });
    this.topicQueue = run.catch(() => undefined);
    return run;
  }

  async refreshCard(rec: CaseRecord): Promise<void> {
    if (!rec.topicId || !rec.cardMessageId) return;
    const t = this.deps.translator.bind(this.deps.config.staffLang);
    await this.deps.api
      .editMessageText(this.deps.config.groupId, rec.cardMessageId, caseCard(rec, t, this.deps.now()), { reply_markup: caseCardKeyboard(rec, t, { refer: this.deps.config.referrals }) })
      .catch((e: unknown) => {
        if (!(e instanceof GrammyError && /not modified/.test(e.description))) this.deps.log.warn({ case: rec.id }, 'could not refresh the case card');
      });
    await this.deps.api.editForumTopic(this.deps.config.groupId, rec.topicId, { name: topicName(rec) }).catch(() => undefined);
  }

  /** A line from the bot in the case topic (a card edit alone is easy to miss). */
  async notice(rec: CaseRecord, key: string): Promise<void> {
    if (!rec.topicId) return;
    const text = this.deps.translator.t(this.deps.config.staffLang, key, { id: rec.id });
    await this.deps.api.sendMessage(this.deps.config.groupId, text, { message_thread_id: rec.topicId }).catch(() => undefined);
  }

  /** Deletes the family's messages copied into a case topic. Telegram refuses some (older than 48 hours): they stay, and nothing else depends on it. */
  async deleteCopies(caseId: string): Promise<void> {
    const ids = await this.deps.store.takeCopies(caseId);
    for (let i = 0; i < ids.length; i += 100) {
      await this.deps.api.deleteMessages(this.deps.config.groupId, ids.slice(i, i + 100)).catch(() => this.deps.log.warn({ case: caseId }, 'could not delete the family’s messages from the topic'));
    }
  }
}
