/**
 * What the bot itself tells a family about their case (an operator joined,
 * back in the line, closed, their place in the line), in their language.
 */
import type { HandoffParts } from './deps.js';
import { isFamilyGone } from './telegram-errors.js';
import type { CaseRecord } from './types.js';

export class FamilyNotices {
  constructor(
    private readonly deps: HandoffParts,
    /** The family blocked the bot: the case learns it (the lifecycle's job, not this one's). */
    private readonly onFamilyGone: (rec: CaseRecord) => Promise<void>,
  ) {}

  /** A message to the family; `feedback` adds the "did this help?" buttons. */
  async tell(rec: CaseRecord, key: string, vars: Record<string, string | number> = {}, feedback = false): Promise<void> {
    if (rec.status === 'family_unreachable' || !rec.chatId) return;
    const t = this.deps.translator.bind(rec.lang);
    const reply_markup = feedback
      ? { inline_keyboard: [[{ text: t('handoff.family.feedbackGood'), callback_data: `hf|${rec.id}|1` }, { text: t('handoff.family.feedbackBad'), callback_data: `hf|${rec.id}|0` }]] }
      : undefined;
    try {
      await this.deps.api.sendMessage(rec.chatId, `${t(key, vars)}${feedback ? `\n\n${t('handoff.family.feedbackQuestion')}` : ''}`, reply_markup ? { reply_markup } : {});
    } catch (e) {
      if (isFamilyGone(e)) await this.onFamilyGone(rec);
      else throw e;
    }
  }

  /** Who joined, as the family sees it: the operator's first name when configured, "an operator" otherwise. */
  async operatorLabel(rec: CaseRecord): Promise<string> {
    const t = this.deps.translator.bind(rec.lang);
    if (!this.deps.config.showOperatorName || !rec.operatorId) return t('handoff.family.anOperator');
    const member = await this.deps.api.getChatMember(this.deps.config.groupId, rec.operatorId).catch(() => undefined);
    return member?.user.first_name ?? t('handoff.family.anOperator');
  }

  /**
   * Tells waiting families their new place when it changed meaningfully: they
   * moved up by three or more, or reached the front. Not on every movement.
   */
  async places(): Promise<void> {
    const line = await this.deps.store.waiting(200);
    for (const [i, rec] of line.entries()) {
      const place = i + 1;
      const told = rec.toldPlace;
      if (told === undefined || place >= told || (told - place < 3 && place > 1)) continue;
      await this.deps.store.setFields(rec.id, { toldPlace: place });
      await this.tell(rec, 'handoff.family.placeUpdate', { place });
    }
  }
}
